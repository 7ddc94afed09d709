"""Seed 000 (Imaging Privileging Program): one accepting and one rejecting case per rule, with the
seed sentence each implements."""

from __future__ import annotations

from datetime import date

import pytest

from tests.claims import BILLING_NPI, RENDERING_NPI, claim, line, provider, run

CARDIO = "207RC0000X"
FAMILY = "207Q00000X"
ORTHO = "207X00000X"
RADIOLOGIST = "2085R0202X"
NP = "363LF0000X"
PA = "363A00000X"
OBGYN = "207V00000X"
MOBILE = "261QR0208X"


def priv(engine, c) -> list[str]:
    return [r for r in run(engine, c) if r.startswith("PRIV")]


# "Providers who are nonradiologists and provide imaging services within an office setting must be
#  privileged."
class TestScope:
    def test_office_imaging_line_is_checked(self, engine):
        assert priv(engine, claim(line("72148"), taxonomy=FAMILY)) == ["PRIV003"]

    def test_facility_place_of_service_is_not_privileged(self, engine):
        # tables are office-only; the MRI/CT/PET ban is outpatient (issue 16 item 9)
        assert priv(engine, claim(line("71046", pos="22"), taxonomy=FAMILY)) == []
        assert priv(engine, claim(line("72148", "26", pos="22"), taxonomy=FAMILY)) == ["PRIV003"]
        assert priv(engine, claim(line("72148", "26", pos="21"), taxonomy=FAMILY)) == []

    def test_office_pos_is_configurable(self, ruleset):
        from edi_gate.rules.engine import Engine

        eng = Engine([ruleset], None, office_pos=frozenset({"11", "49"}))
        assert priv(eng, claim(line("72148", pos="49"), taxonomy=FAMILY)) == ["PRIV003"]

    def test_non_imaging_line_is_not_subject(self, engine):
        assert priv(engine, claim(line("99213"), line("20610"), taxonomy=FAMILY)) == []

    @pytest.mark.parametrize("code", ["93880", "A4641", "G0130", "70010", "78999"])
    def test_imaging_includes_table_codes_and_radiology_range(self, engine, code):
        # a gastroenterologist holds no table: every imaging code is rejected
        assert priv(engine, claim(line(code, prior_auth="PA1"), taxonomy="207RG0100X")) != []

    # "Radiologists (NUCC 2085*) are not restricted by privileging."
    @pytest.mark.parametrize("tax", ["2085R0202X", "2085N0904X", "2085R0204X"])
    def test_radiologists_are_not_restricted(self, engine, tax):
        c = claim(line("72148"), line("71046"), line("78815"), taxonomy=tax)
        assert priv(engine, c) == []

    # "Mammographies may be performed in an office setting, regardless of provider specialty."
    @pytest.mark.parametrize("code", ["77065", "77066", "77067", "77063", "G0279"])
    def test_mammography_any_specialty(self, engine, code):
        assert priv(engine, claim(line(code), taxonomy="207RG0100X")) == []

    def test_breast_mri_is_not_mammography(self, engine):
        assert priv(engine, claim(line("77049"), taxonomy=OBGYN)) == ["PRIV003"]


# PRIV001 -- unknown specialty: no PRV anywhere in the chain and none in the roster.
class TestUnknownSpecialty:
    def test_no_taxonomy_rejects_office_imaging(self, engine):
        found = engine.evaluate(claim(line("71046", "TC")))
        assert [f.rule for f in found] == ["PRIV001"]
        f = found[0]
        assert (f.category, f.status, f.entity) == ("A3", "145", "85")
        assert "taxonomy" in f.message and BILLING_NPI in f.message

    def test_no_taxonomy_non_imaging_unaffected(self, engine):
        assert run(engine, claim(line("99213"))) == []

    def test_roster_fills_in_the_taxonomy(self, make_engine):
        eng = make_engine(f"{BILLING_NPI},{FAMILY},,2020-01-01,\n")
        assert priv(eng, claim(line("71046", "TC"))) == []
        assert priv(eng, claim(line("71046"))) == ["PRIV005"]

    def test_roster_taxonomy_not_yet_effective(self, make_engine):
        eng = make_engine(f"{BILLING_NPI},{FAMILY},,2025-07-01,\n")
        assert priv(eng, claim(line("71046", "TC"))) == ["PRIV001"]

    def test_same_npi_higher_loop_prv_is_used(self, engine):
        rend = provider(ORTHO, loop="2310B")
        line_prov = provider("", loop="2420A", npi_=RENDERING_NPI)
        c = claim(line("73560", rendering=line_prov), rendering=rend)
        assert priv(engine, c) == []

    def test_other_npi_higher_loop_prv_is_not_used(self, engine):
        rend = provider(ORTHO, loop="2310B")
        other = provider("", loop="2420A", npi_="1234567893")
        f = engine.evaluate(claim(line("73560", rendering=other), rendering=rend))
        assert [x.rule for x in f] == ["PRIV001"] and f[0].entity == "82"


# PRIV002 -- "Non-physician practitioners (363L*, 363A*, other 36*) hold no imaging privileges."
class TestNonPhysicianPractitioner:
    @pytest.mark.parametrize("tax", [NP, PA, "364SA2100X", "367500000X"])
    def test_npp_rejected(self, engine, tax):
        assert priv(engine, claim(line("71046", "TC"), taxonomy=tax)) == ["PRIV002"]

    def test_npp_mammography_allowed(self, engine):
        assert priv(engine, claim(line("77067"), taxonomy=NP)) == []


# PRIV003 -- "Tufts Health Plan does not compensate MRI/MRA, CT/CTA, and PET services performed by
#  a nonradiologist. This includes both the technical and professional component."
class TestAdvancedImaging:
    @pytest.mark.parametrize(
        "code", ["72148", "70551", "73721", "74178", "70450", "71275", "78815", "78608"]
    )
    @pytest.mark.parametrize("mods", [(), ("TC",), ("26",)])
    def test_rejected_whatever_the_modifier(self, engine, code, mods):
        assert priv(engine, claim(line(code, *mods), taxonomy=ORTHO)) == ["PRIV003"]

    def test_message_names_code_specialty_and_fix(self, engine):
        (f,) = engine.evaluate(claim(line("72148", "TC"), taxonomy=ORTHO))
        assert "72148-TC" in f.message and "Orthopaedic surgery" in f.message
        assert "imaging center" in f.message and len(f.message) <= 264
        assert (f.category, f.status, f.entity) == ("A7", "145", "82")


# PRIV004 -- "Board-certified or board-eligible providers in the specialties indicated in the
#  following tables can only be reimbursed for the imaging procedures listed under that specialty."
class TestNotPrivileged:
    def test_code_outside_tables_rejected(self, engine):
        assert priv(engine, claim(line("76536"), taxonomy=ORTHO)) == ["PRIV004"]

    def test_code_in_table_accepted(self, engine):
        assert priv(engine, claim(line("73560"), taxonomy=ORTHO)) == []

    def test_specialty_without_table(self, engine):
        # "Providers who do not have specialty- or service-specific training addressed in these
        #  tables do not have imaging privileges"
        assert priv(engine, claim(line("73560", "TC"), taxonomy="207RG0100X")) == ["PRIV004"]

    def test_orthopaedic_hand_surgeon_gets_both_tables(self, engine):
        assert priv(engine, claim(line("72100"), line("73140"), taxonomy="207XS0106X")) == []

    def test_plastic_hand_surgeon_only_hand_table(self, engine):
        assert priv(engine, claim(line("73140"), taxonomy="2082S0105X")) == []
        assert priv(engine, claim(line("72100"), taxonomy="2082S0105X")) == ["PRIV004"]

    @pytest.mark.parametrize("tax", ["207U00000X", "207UN0901X"])
    def test_nuclear_medicine_and_subspecialties(self, engine, tax):
        assert priv(engine, claim(line("78452", prior_auth="X1"), taxonomy=tax)) == []


# PRIV005 -- "privileged to perform the following services and are eligible for technical
#  compensation only. The professional component of these procedures must be performed by a
#  radiologist."
class TestTechnicalOnly:
    def test_tc_accepted(self, engine):
        assert priv(engine, claim(line("71046", "TC"), taxonomy=CARDIO)) == []

    @pytest.mark.parametrize("mods", [(), ("26",), ("TC", "26")])
    def test_global_or_26_rejected(self, engine, mods):
        assert priv(engine, claim(line("71046", *mods), taxonomy=CARDIO)) == ["PRIV005"]

    def test_message_says_bill_tc(self, engine):
        (f,) = engine.evaluate(claim(line("71046"), taxonomy=FAMILY))
        assert "71046-TC" in f.message and "Family medicine" in f.message
        assert (f.category, f.status) == ("A7", "453")

    def test_more_permissive_table_wins(self, engine):
        # a pulmonologist: technical-only chest x-rays, global echo (different tables)
        c = claim(line("93306", prior_auth="A1"), line("71046", "TC"), taxonomy="207RP1001X")
        assert priv(engine, c) == []


# PRIV006 -- "Service-specific privileges are not granted retroactively."
class TestCertifications:
    def test_no_credential_rejected(self, engine):
        assert priv(engine, claim(line("77080"), taxonomy=FAMILY)) == ["PRIV006"]

    def test_credential_in_force_allows_global(self, make_engine):
        eng = make_engine(f"{RENDERING_NPI},,ISCD,2024-01-01,2026-12-31\n")
        for mods in [(), ("TC",), ("26",)]:
            assert priv(eng, claim(line("77080", *mods), taxonomy=FAMILY)) == []

    def test_credential_effective_after_dos_does_not_count(self, make_engine):
        eng = make_engine(f"{RENDERING_NPI},,ISCD,2025-06-03,\n")
        assert priv(eng, claim(line("77080"), taxonomy=FAMILY)) == ["PRIV006"]

    def test_credential_expired_by_dos_does_not_count(self, make_engine):
        eng = make_engine(f"{RENDERING_NPI},,ISCD,2020-01-01,2025-06-01\n")
        assert priv(eng, claim(line("77080"), taxonomy=FAMILY)) == ["PRIV006"]
        eng = make_engine(f"{RENDERING_NPI},,ISCD,2020-01-01,2025-06-02\n")
        assert priv(eng, claim(line("77080"), taxonomy=FAMILY)) == []

    # "These lists are specific, so they override the general CT rule for the codes they name"
    def test_iscd_overrides_ct_ban_for_77078(self, engine, make_engine):
        # issue 16 item 12: without ISCD the remedy is the certification, not the CT ban
        found = engine.evaluate(claim(line("77078"), taxonomy=FAMILY))
        assert [f.rule for f in found] == ["PRIV006"] and "ISCD" in found[0].message
        assert "nonradiologist" not in found[0].message
        eng = make_engine(f"{RENDERING_NPI},,ISCD,,\n")
        assert priv(eng, claim(line("77078"), taxonomy=FAMILY)) == []

    # "Accreditation by the AIUM or certification by the ASBS is required"
    @pytest.mark.parametrize("cred", ["AIUM", "ASBS"])
    def test_breast_ultrasound(self, engine, make_engine, cred):
        assert priv(engine, claim(line("76641"), taxonomy="208600000X")) == ["PRIV006"]
        eng = make_engine(f"{RENDERING_NPI},,{cred},,\n")
        assert priv(eng, claim(line("76641"), taxonomy="208600000X")) == []

    # "IAC is required for providers who are not board-certified ... in general vascular surgery or
    #  cardiovascular disease."
    def test_cardiologist_without_iac_technical_only(self, engine):
        assert priv(engine, claim(line("93880", "TC"), taxonomy=CARDIO)) == []
        (f,) = engine.evaluate(claim(line("93880"), taxonomy=CARDIO))
        assert f.rule == "PRIV005" and "IAC" in f.message

    def test_cardiologist_with_iac_global(self, make_engine):
        eng = make_engine(f"{RENDERING_NPI},,IAC,2024-01-01,\n")
        assert priv(eng, claim(line("93880"), taxonomy=CARDIO)) == []

    def test_vascular_surgeon_global_without_iac(self, engine):
        assert priv(engine, claim(line("93880"), taxonomy="2086S0129X")) == []

    def test_other_specialty_needs_iac(self, engine, make_engine):
        assert priv(engine, claim(line("93970"), taxonomy=FAMILY)) == ["PRIV006"]
        eng = make_engine(f"{RENDERING_NPI},,IAC,,\n")
        assert priv(eng, claim(line("93970"), taxonomy=FAMILY)) == []


# PRIV007 -- "The procedure codes listed above require prior authorization"
class TestPriorAuthorization:
    @pytest.mark.parametrize("code", ["93306", "78452", "A4641"])
    def test_missing_rejected(self, engine, code):
        found = engine.evaluate(claim(line(code), taxonomy=CARDIO))
        assert [f.rule for f in found] == ["PRIV007"]
        assert (found[0].category, found[0].status) == ("A3", "252")
        assert "REF*G1" in found[0].message

    def test_claim_level_authorization(self, engine):
        assert priv(engine, claim(line("93306"), taxonomy=CARDIO, prior_auth="AUTH1")) == []

    def test_line_level_authorization(self, engine):
        assert priv(engine, claim(line("93306", prior_auth="AUTH1"), taxonomy=CARDIO)) == []

    def test_radiologist_also_needs_it(self, engine):
        assert priv(engine, claim(line("78452"), taxonomy=RADIOLOGIST)) == ["PRIV007"]

    def test_not_required_outside_outpatient(self, engine):
        # "required for outpatient high-tech imaging services" (issue 16 item 9): 22 yes, 21 no
        assert priv(engine, claim(line("93306", "26", pos="22"), taxonomy=CARDIO)) == ["PRIV007"]
        assert priv(engine, claim(line("93306", "26", pos="21"), taxonomy=CARDIO)) == []


# PRIV008 -- "Mobile imaging services are subject to the same privileging restrictions established
#  for the provider for whom they perform services, except for obstetrical (OB) ultrasound."
class TestMobile:
    def _mobile_claim(self, code, *mods, office_tax=ORTHO, billing_npi=BILLING_NPI):
        billing = provider(office_tax, loop="2000A", npi_=billing_npi)
        return claim(
            line(code, *mods), rendering=provider(MOBILE, npi_="1234567893"), billing=billing
        )

    def test_mobile_takes_office_privileges(self, engine):
        assert priv(engine, self._mobile_claim("73560")) == []
        assert priv(engine, self._mobile_claim("76536")) == ["PRIV004"]
        assert priv(engine, self._mobile_claim("71046", office_tax=FAMILY)) == ["PRIV005"]

    def test_mobile_billing_for_itself_rejected(self, engine):
        c = self._mobile_claim("73560", office_tax=MOBILE)
        assert priv(engine, c) == ["PRIV008"]

    # "If a mobile provider performs an OB ultrasound in an office setting, a Tufts Health Plan
    #  board-certified radiologist or AIUM accredited provider must interpret the films."
    def test_mobile_ob_ultrasound_tc_allowed(self, engine):
        assert priv(engine, self._mobile_claim("76805", "TC", office_tax=FAMILY)) == []

    def test_mobile_ob_ultrasound_read_without_aium(self, engine):
        assert priv(engine, self._mobile_claim("76805", office_tax=FAMILY)) == ["PRIV008"]

    def test_mobile_ob_ultrasound_with_aium(self, make_engine):
        eng = make_engine("1234567893,,AIUM,2024-01-01,\n")
        assert priv(eng, self._mobile_claim("76805", office_tax=FAMILY)) == []


def test_dos_drives_roster_lookups(make_engine):
    eng = make_engine(f"{RENDERING_NPI},,ISCD,2025-01-01,2025-12-31\n")
    early = claim(line("77080", dos=date(2024, 12, 31)), taxonomy=FAMILY)
    assert priv(eng, early) == ["PRIV006"]
