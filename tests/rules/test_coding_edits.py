"""Coding edits that apply in every setting (seeds 001, 002, 003, 004), each with the seed
sentence it implements, one accepting and one rejecting case at least."""

from __future__ import annotations

from datetime import date

import pytest

from tests.claims import claim, line, run

ORTHO = "207X00000X"
RAD = "2085R0202X"


def ids(engine, *lines, taxonomy=RAD, **kw) -> list[str]:
    """Rules found; a radiologist renders by default so privileging stays out of the way."""
    return run(engine, claim(*lines, taxonomy=taxonomy, **kw))


# GUID001 -- "Only one unit of any of these codes should be reported per patient encounter (date of
#  service)." (001 Preface-4.2); "Only one unit of service for either of these codes is allowed at a
#  single patient encounter" (002)
class TestGuidanceOneUnit:
    def test_one_unit_accepted(self, engine):
        assert ids(engine, line("20610"), line("77002")) == []

    def test_two_units_rejected(self, engine):
        found = engine.evaluate(claim(line("20610"), line("77002", units=2), taxonomy=RAD))
        assert [(f.rule, f.line, f.status) for f in found] == [("GUID001", 2, "476")]

    def test_two_guidance_codes_same_day(self, engine):
        assert ids(engine, line("20610"), line("77002"), line("77012")) == ["GUID001"]

    def test_different_days_accepted(self, engine):
        c = [
            line("20610"),
            line("77002"),
            line("20610", dos=date(2025, 6, 3)),
            line("77002", dos=date(2025, 6, 3)),
        ]
        assert ids(engine, *c) == []


# GUID002 -- "The codes 20604, 20606, and 20611 include the descriptor, 'with ultrasound guidance,
#  with permanent recording and reporting.' ... rather than CPT code 76942."
class TestUsJointInjection:
    @pytest.mark.parametrize("code", ["20604", "20606", "20611"])
    def test_rejected(self, engine, code):
        assert ids(engine, line(code), line("76942")) == ["GUID002"]

    def test_with_20610_is_guid010(self, engine):
        # issue 16 item 7: 20610 + 76942 is the ultrasound-guided injection 20611 billed in two
        assert ids(engine, line("20610"), line("76942")) == ["GUID010"]

    def test_no_bypass_for_included_guidance(self, engine):
        # issue 16 item 5: 20604/20606/20611 include the guidance; -XS does not lift the edit
        assert ids(engine, line("20611"), line("76942", "XS")) == ["GUID002"]


# GUID003 -- "It is not expected that a non-physician practitioner (NPP) would perform procedures
#  utilizing 76942 as they are not qualified to 'interpret' diagnostic ultrasounds."
def test_76942_by_npp(engine):
    found = run(
        engine, claim(line("10005", pos="22"), line("76942", pos="22"), taxonomy="363LF0000X")
    )
    assert found == ["GUID003"]
    assert (
        run(engine, claim(line("10005", pos="22"), line("76942", pos="22"), taxonomy="207RE0101X"))
        == []
    )


# GUID004 -- "Ultrasound guidance for needle procedures of the foot by podiatry or other specialists
#  is not medically necessary"
def test_76942_by_podiatry(engine):
    assert run(
        engine, claim(line("20550", pos="22"), line("76942", pos="22"), taxonomy="213ES0103X")
    ) == ["GUID004"]
    assert (
        run(engine, claim(line("20550", pos="22"), line("76942", pos="22"), taxonomy=ORTHO)) == []
    )


# GUID005 -- "Ultrasound guidance for trigger point or peripheral nerve block injections is not
#  medically necessary."
@pytest.mark.parametrize("code", ["20552", "20553", "64450", "64415", "64455"])
def test_76942_trigger_point_nerve_block(engine, code):
    assert ids(engine, line(code), line("76942")) == ["GUID005"]


def test_76942_other_injection_accepted(engine):
    assert ids(engine, line("20550"), line("76942")) == []


# GUID006 -- "Ultrasound guidance for viscosupplement injections is considered experimental and
#  investigational"
def test_76942_viscosupplement(engine):
    assert ids(engine, line("10005"), line("J7325"), line("76942", "XS")) == []
    assert ids(engine, line("J7325"), line("76942")) == ["GUID006"]
    assert ids(engine, line("J1030"), line("76942")) == []


# GUID007 -- "CPT 77021 (MR guidance for needle placement) is not an appropriate code for a breast
#  biopsy." -- "CPT 19085 would be appropriate"
def test_77021_breast_biopsy(engine):
    found = engine.evaluate(claim(line("19083"), line("77021"), taxonomy=RAD))
    assert [f.rule for f in found] == ["GUID007"] and "19085" in found[0].message
    assert ids(engine, line("19085")) == []
    assert ids(engine, line("32405"), line("77021")) == []


# GUID008 -- "CPT 77013 should only be used for non-bone ablation procedures. CPT 20982 includes CT
#  guidance for bone tumor ablations."
def test_77013_bone_ablation(engine):
    assert ids(engine, line("20982"), line("77013")) == ["GUID008"]
    assert ids(engine, line("47382"), line("77013")) == []


# GUID009 -- "It is not appropriate to report both CPT 70486 and CPT 77011 for the same CT
#  stereotactic localization imaging session."
def test_77011_with_70486(engine):
    found = engine.evaluate(claim(line("70486"), line("77011"), taxonomy=RAD))
    assert [(f.rule, f.line) for f in found] == [("GUID009", 2)]
    assert ids(engine, line("77011")) == []
    assert ids(engine, line("70486"), line("77011", dos=date(2025, 6, 9))) == []


# BUND001 -- "CPT fluoroscopy codes 76000 ... are intended for use as stand-alone codes when
#  fluoroscopy is the only imaging performed." / "fluoroscopy is considered a part of such
#  procedures as gastrointestinal exams, arthrography, myelography, cholecystography, venography,
#  angiography, arteriography and cystography and is not coded separately."
class TestFluoroscopyStandAlone:
    @pytest.mark.parametrize(
        "other",
        ["77001", "77002", "77003", "74240", "73040", "72240", "74290", "75820", "75710", "74430"],
    )
    def test_rejected_beside(self, engine, other):
        assert "BUND001" in ids(engine, line("20610"), line("36556"), line(other), line("76000"))

    def test_stand_alone_accepted(self, engine):
        assert ids(engine, line("10120"), line("76000")) == []

    def test_other_day_accepted(self, engine):
        assert ids(engine, line("74240"), line("76000", dos=date(2025, 6, 5))) == []


# BUND002 -- "CPT codes for 3D rendering should not be billed in conjunction with computer-aided
#  detection (CAD), MRA, CTA, nuclear medicine SPECT studies, PET, PET/CT, Mammogram, MRI Breast, US
#  Breast, CT Colonography (virtual colonoscopy), Cardiac MRI, Cardiac CT, or Coronary CTA studies."
class TestThreeD:
    @pytest.mark.parametrize(
        "other",
        [
            "0174T",
            "70544",
            "71275",
            "78803",
            "78811",
            "78815",
            "77067",
            "77049",
            "76641",
            "74263",
            "75561",
            "75572",
            "75574",
            "77011",
        ],
    )
    def test_rejected_beside(self, engine, other):
        assert "BUND002" in ids(engine, line(other), line("76377"))

    def test_with_ct_head_accepted(self, engine):
        assert ids(engine, line("70450"), line("76376")) == []


# BUND003 -- "It is inappropriate to report CPT 76380, in conjunction with other diagnostic CT
#  codes, to cover 'extra slices'"
def test_76380_with_diagnostic_ct(engine):
    assert ids(engine, line("71250"), line("76380")) == ["BUND003"]
    assert ids(engine, line("76380")) == []


# BUND004 -- "The unbundling of PET/CT into separate PET and diagnostic CT CPT codes is not
#  supported, because PET/CT is done as a single study."
def test_pet_ct_unbundled(engine):
    found = engine.evaluate(claim(line("78815"), taxonomy=RAD))
    assert found == []
    found = engine.evaluate(claim(line("78812"), line("71260"), taxonomy=RAD))
    assert [f.rule for f in found] == ["BUND004"] and "78815" in found[0].message


# BUND005 -- "PET-MRI may be approved using the code combination of PET Whole Body (CPT 78813) and
#  MRI Unlisted (CPT 76498). All other methods of reporting PET-MRI are inappropriate."
def test_pet_mri(engine):
    assert ids(engine, line("78813"), line("76498")) == []
    assert ids(engine, line("78816"), line("76498")) == ["BUND005"]


# BUND006 -- "Diagnostic MRI of both breasts should be coded as CPT 77049 regardless of whether both
#  breasts are imaged simultaneously or whether unilateral breast MRI is performed in two separate
#  imaging sessions."
class TestBilateralBreastMri:
    def test_two_lines(self, engine):
        found = engine.evaluate(claim(line("77048", "RT"), line("77048", "LT"), taxonomy=RAD))
        assert [f.rule for f in found] == ["BUND006", "BUND006"] and "77049" in found[0].message

    def test_two_units(self, engine):
        assert ids(engine, line("77046", units=2)) == ["BUND006"]

    def test_modifier_50(self, engine):
        assert ids(engine, line("77048", "50")) == ["BUND006"]

    def test_rt_lt_one_line(self, engine):
        assert ids(engine, line("77046", "RT", "LT")) == ["BUND006"]

    def test_two_sessions_same_day_without_contrast(self, engine):
        found = engine.evaluate(claim(line("77046"), line("77046"), taxonomy=RAD))
        assert "77047" in found[0].message

    def test_unilateral_and_bilateral_accepted(self, engine):
        assert ids(engine, line("77048", "RT")) == []
        assert ids(engine, line("77049")) == []
        assert ids(engine, line("77048", "RT"), line("77048", "LT", dos=date(2025, 7, 1))) == []


# ADD001 -- "Unlike the other fluoroscopic guidance codes, this [77001] is an add-on code"; seed 000
#  "* List separately in addition to codes for ECG imaging primary procedure"
class TestAddOns:
    @pytest.mark.parametrize(
        "add_on,primary",
        [
            ("77001", "36556"),
            ("77002", "20610"),
            ("77003", "62321"),
            ("93320", "93312"),
            ("93321", "93308"),
            ("93325", "93350"),
            ("93352", "93351"),
            ("76802", "76801"),
            ("76810", "76805"),
            ("76812", "76811"),
            ("76814", "76813"),
        ],
    )
    def test_with_primary_accepted(self, engine, add_on, primary):
        assert ids(engine, line(primary), line(add_on), prior_auth="A1") == []

    @pytest.mark.parametrize(
        "add_on",
        [
            "77001",
            "77002",
            "77003",
            "93320",
            "93321",
            "93325",
            "93352",
            "76802",
            "76810",
            "76812",
            "76814",
        ],
    )
    def test_without_primary_rejected(self, engine, add_on):
        found = engine.evaluate(claim(line(add_on), taxonomy=RAD, prior_auth="A1"))
        assert [(f.rule, f.category, f.status) for f in found] == [("ADD001", "A7", "736")]

    def test_primary_on_another_date_does_not_count(self, engine):
        assert ids(engine, line("76801"), line("76802", dos=date(2025, 6, 3))) == ["ADD001"]

    def test_93306_is_not_a_doppler_primary(self, engine):
        assert ids(engine, line("93306"), line("93320"), prior_auth="A1") == ["ADD001"]


# MOD001/MOD002 -- "each code can be billed as a global service (both technical and professional
#  components), technical component only (modifier TC), or professional component only
#  (modifier 26)"
class TestModifiers:
    def test_tc_and_26_rejected(self, engine):
        found = engine.evaluate(claim(line("71046", "TC", "26"), taxonomy=RAD))
        assert [(f.rule, f.status) for f in found] == [("MOD001", "453")]

    @pytest.mark.parametrize("mods", [(), ("TC",), ("26",)])
    def test_split_code_accepted(self, engine, mods):
        assert ids(engine, line("71046", *mods)) == []

    @pytest.mark.parametrize(
        "code,mod",
        [("93313", "TC"), ("93316", "26"), ("A4641", "TC"), ("77071", "TC"), ("77071", "26")],
    )
    def test_no_split_rejected(self, engine, code, mod):
        assert "MOD002" in ids(engine, line(code, mod), prior_auth="A1")

    def test_no_split_without_modifier_accepted(self, engine):
        assert ids(engine, line("93313"), prior_auth="A1") == []


# CODE001 -- "Code 75998 was renumbered 77001." "Codes 76003 and 76005 were renumbered 77002 and
#  77003, respectively."
class TestDeleted:
    @pytest.mark.parametrize(
        "old,new", [("75998", "77001"), ("76003", "77002"), ("76005", "77003")]
    )
    def test_rejected_naming_replacement(self, engine, old, new):
        found = engine.evaluate(claim(line("36556"), line("20610"), line(old), taxonomy=RAD))
        assert [f.rule for f in found] == ["CODE001"] and new in found[0].message

    def test_before_deletion_date_accepted(self, engine, ruleset):
        from edi_gate.rules.codes import DeletedCode
        from edi_gate.rules.context import ClaimContext

        # the shipped ruleset starts in 2024; test the rule directly on a 2006 claim
        c = claim(line("76003", dos=date(2006, 5, 1)), taxonomy=RAD)
        rule = next(r for r in ruleset.rules if isinstance(r, DeletedCode))
        assert list(rule.check(ClaimContext(c, ruleset, None, frozenset({"11"})))) == []


# CODE002 -- "nonspecific codes such as S8042 [MRI, low-field], should be redirected to a more
#  appropriate and specific CPT code."
def test_s8042(engine):
    found = engine.evaluate(claim(line("S8042"), taxonomy=RAD))
    assert [(f.rule, f.status) for f in found] == [("CODE002", "507")]


# CODE003 -- "these procedures are considered to be investigational and experimental"
@pytest.mark.parametrize("code", ["0648T", "0649T", "0697T", "0698T"])
def test_investigational(engine, code):
    assert ids(engine, line(code)) == ["CODE003"]


# CODE004 -- "Medicare, as well as many other payors do not reimburse CPT 76140"
def test_76140(engine):
    assert ids(engine, line("76140")) == ["CODE004"]
    assert ids(engine, line("76140", pos="22"), taxonomy="207RC0000X") == ["CODE004"]


def test_messages_are_short_and_name_no_patient(engine):
    c = claim(
        line("71046", "TC", "26"),
        line("76003"),
        line("77046", units=2),
        line("S8042"),
        taxonomy="207RC0000X",
    )
    c.patient.name, c.patient.id = "DOE", "MEMBER0001"
    for f in engine.evaluate(c):
        assert len(f.message) <= 264
        assert "DOE" not in f.message and "MEMBER0001" not in f.message
        assert f.category in ("A3", "A7") and f.entity in ("82", "85") and int(f.status) <= 771
