"""Deterministic generator of large, valid, synthetic X12 837P (005010X222A1) files.

Why: edi-gate must be measured on realistic volume (millions of claims, many providers, the
imaging-privilege and TC/26 patterns the rules look at) without touching real PHI. Everything
here is made up: patients are ``PATIENT<n>``, members ``M<digits>``, NPIs are random numbers
with a valid Luhn check digit.

Speed/memory: each transaction set (ST..SE, at most ``max_claims_per_st`` claims) is built as
a list of pre-rendered string fragments, joined once, counted for SE01 and written; only one ST
is in memory at a time, so 1M claims stream to disk in well under a minute.

Usage::

    python -m bench.generate --claims 100000 --seed 7 -o bench/data/claims_100000_s7.837
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

# Bump when the output for a given (claims, seed) changes, so cached bench files are regenerated.
GENERATOR_VERSION = 2

# --------------------------------------------------------------------------------------------
# Reference data (codes from the policy seeds and shared/reference; NUCC v25.1 taxonomies)
# --------------------------------------------------------------------------------------------

TAXONOMY: dict[str, str] = {
    "RAD": "2085R0202X",  # diagnostic radiology
    "CARD": "207RC0000X",  # cardiovascular disease
    "FM": "207Q00000X",  # family medicine
    "IM": "207R00000X",  # internal medicine
    "PEDS": "208000000X",  # pediatrics
    "ORTHO": "207X00000X",  # orthopaedic surgery
    "POD": "213E00000X",  # podiatrist
    "NP": "363L00000X",  # nurse practitioner
    "ANES": "207L00000X",  # anesthesiology
    "PMR": "208100000X",  # physical medicine & rehabilitation
    "ENDO": "207RE0101X",  # endocrinology, diabetes & metabolism
    "URO": "208800000X",  # urology
    "OB": "207V00000X",  # obstetrics & gynecology
    "VASC": "2086S0129X",  # vascular surgery
    "PULM": "207RP1001X",  # pulmonary disease
    "MULTI": "193200000X",  # multi-specialty group (billing only)
}

# How often each kind of billing group appears (weights, not percentages).
GROUP_WEIGHTS: dict[str, int] = {
    "RAD": 20,
    "CARD": 11,
    "FM": 14,
    "IM": 8,
    "PEDS": 4,
    "ORTHO": 10,
    "POD": 5,
    "ANES": 3,
    "PMR": 3,
    "ENDO": 3,
    "URO": 3,
    "OB": 4,
    "VASC": 2,
    "PULM": 3,
    "MULTI": 7,
}
MULTI_MEMBERS = ("FM", "IM", "CARD", "ORTHO", "RAD", "NP", "PULM", "ENDO")
PCP = ("FM", "IM", "PEDS")

# Recipes: (name, lines, diagnoses). A line is "CODE[:MOD[:MOD]][*UNITS][@R]"; "@R" puts the
# line under a 2420A radiologist (reading physician) instead of the claim's rendering provider.
# Names starting with "F_" are billed in a facility (POS 22/19/21); others in the office (11).
Recipe = tuple[str, tuple[str, ...], tuple[str, ...]]

_PCP_GOOD: list[Recipe] = [
    ("pcp_em", ("99213",), ("J069",)),
    ("pcp_em_est", ("99214",), ("I10", "E119")),
    ("pcp_em_chest_tc_read", ("99214", "71046:TC", "71046:26@R"), ("R059", "J189")),
    ("pcp_ankle_tc", ("99213", "73610:TC"), ("S93401A",)),
    ("pcp_knee_tc", ("99213", "73562:TC"), ("M25561",)),
    ("pcp_wellness", ("99396",), ("Z0000",)),
]
_PCP_BAD: list[Recipe] = [
    ("BAD_pcp_mri_brain_70553", ("99214", "70553"), ("G4489", "R519")),
    ("BAD_pcp_chest_global_not_tc", ("99213", "71046"), ("R059",)),
    ("BAD_pcp_76942_with_20610", ("20610", "76942"), ("M1711",)),
    ("BAD_pcp_ct_head", ("70450",), ("R519",)),
]

RECIPES: dict[str, tuple[list[Recipe], list[Recipe]]] = {
    "RAD": (
        [
            ("rad_knee", ("73562",), ("M25561",)),
            ("rad_chest", ("71046",), ("R0789",)),
            ("rad_lspine", ("72100",), ("M5416",)),
            ("rad_mri_brain", ("70553",), ("G4489",)),
            ("rad_mri_knee", ("73721",), ("M23205",)),
            ("rad_mri_lspine", ("72148",), ("M5416",)),
            ("rad_ct_abd_pelvis", ("74178",), ("R1030",)),
            ("F_rad_ct_head_26", ("70450:26",), ("R519",)),
            ("F_rad_chest_26", ("71046:26",), ("J189",)),
            ("F_rad_spect_26", ("78452:26",), ("R0789",)),
            ("rad_screen_mammo", ("77067",), ("Z1231",)),
            ("rad_breast_us", ("76641:RT",), ("N6310",)),
            ("rad_thyroid_fna_us", ("10021", "76942"), ("E041",)),
            ("F_rad_bone_bx_ct", ("20225", "77012:26"), ("M8968",)),
            ("F_rad_mri_guided_bx", ("20206", "77021:26"), ("M6289",)),
            ("rad_fluoro", ("76000",), ("T1490XA",)),
            ("rad_dexa", ("77080",), ("Z1382",)),
        ],
        [
            ("BAD_rad_tc_and_26_same_line", ("73562:TC:26",), ("M25561",)),
            ("BAD_rad_deleted_76003", ("20225", "76003"), ("M8968",)),
            ("BAD_rad_76942_with_20604", ("20604", "76942"), ("M1811",)),
            # 10005 includes ultrasound guidance in CPT (NCCI bundles 76942 into it), but no seed
            # says so and no rule rejects it: not a labelled violation. Kept in the violation
            # draw so the generated bytes stay those of earlier bench runs.
            ("rad_fna_10005_with_76942_no_seed_edit", ("10005", "76942"), ("E041",)),
        ],
    ),
    "CARD": (
        [
            ("card_echo_tc", ("93306:TC",), ("I509",)),
            ("card_em_carotid_tc", ("99214", "93880:TC"), ("I6523", "I10")),
            ("card_em_chest_tc_read", ("99213", "71046:TC", "71046:26@R"), ("R0602", "I10")),
            ("card_spect_tc", ("78452:TC", "A4641"), ("I2510",)),
            ("card_em_ecg", ("99214", "93000"), ("I480", "I10")),
            ("card_le_arterial_tc", ("93925:TC",), ("I70213",)),
        ],
        [
            # the Echocardiography table states no component: global is allowed (not a violation;
            # kept in the violation draw so the generated bytes stay the same)
            ("card_echo_global", ("93306",), ("I509",)),
            ("BAD_card_cardiac_mri", ("75557",), ("I420",)),
            ("BAD_card_carotid_global", ("99214", "93880"), ("I6523", "I10")),
        ],
    ),
    "FM": (_PCP_GOOD, _PCP_BAD),
    "IM": (_PCP_GOOD, _PCP_BAD),
    "PEDS": (
        [
            ("peds_em", ("99213",), ("J069",)),
            ("peds_chest_tc", ("99213", "71046:TC"), ("J189",)),
            ("peds_forearm_tc", ("73090:TC",), ("S52501A",)),
        ],
        _PCP_BAD[:2],
    ),
    "ORTHO": (
        [
            ("ortho_knee", ("99213", "73562"), ("M1711", "M25561")),
            ("ortho_shoulder", ("99203", "73030:RT"), ("M25511",)),
            ("ortho_lspine", ("72100",), ("M5416",)),
            ("ortho_inj_us_20611", ("20611",), ("M1711",)),
            ("ortho_inj_20610", ("99213", "20610"), ("M1711",)),
            ("ortho_hand_inj_us_20604", ("20604",), ("M1811",)),
            ("ortho_hand_xray", ("73130",), ("S62101A",)),
        ],
        [
            ("BAD_ortho_76942_with_20611", ("20611", "76942"), ("M1711",)),
            ("BAD_ortho_ct_leg", ("73700",), ("S82101A",)),
            ("BAD_ortho_tc_and_26_same_line", ("73562:TC:26",), ("M1711",)),
            ("BAD_ortho_guidance_two_units", ("20610", "77002*2"), ("M1711",)),
            ("BAD_ortho_77002_not_privileged", ("20610", "77002"), ("M1711",)),
        ],
    ),
    "POD": (
        [
            ("pod_foot", ("99213", "73630"), ("M722",)),
            ("pod_ankle", ("73610",), ("S93401A",)),
            ("pod_heel_inj", ("20550", "73650"), ("M722",)),
            ("pod_toe", ("73660:TA",), ("L600",)),
        ],
        [
            ("BAD_pod_us_guided_foot_injection", ("20550", "76942"), ("M722",)),
            ("BAD_pod_chest_xray", ("71046",), ("R059",)),
        ],
    ),
    "NP": (
        [
            ("np_em", ("99213",), ("J069",)),
            ("np_em_low", ("99212",), ("Z0000",)),
        ],
        [("BAD_np_76942_guidance", ("20610", "76942"), ("M1711",))],
    ),
    "ANES": (
        [
            ("pain_nerve_block", ("64450",), ("M792",)),
            ("pain_epidural_fluoro", ("62322", "77003"), ("M5416",)),
            ("pain_facet", ("64493",), ("M47816",)),
        ],
        [
            ("BAD_pain_nerve_block_us_76942", ("64450", "76942"), ("M792",)),
            # 72275 is a row of the seed's anesthesiology/PM&R table, kept as published: allowed
            ("pain_epidurography_72275", ("62322", "72275"), ("M5416",)),
            ("BAD_pain_deleted_76003", ("62322", "76003"), ("M5416",)),
        ],
    ),
    "ENDO": (
        [
            ("endo_thyroid_us", ("76536",), ("E041",)),
            ("endo_thyroid_fna_us", ("10021", "76942"), ("E041",)),
            ("endo_em", ("99214",), ("E119",)),
        ],
        [
            ("BAD_endo_ct_neck", ("70490",), ("E041",)),
            ("endo_fna_10005_with_76942_no_seed_edit", ("10005", "76942"), ("E041",)),
        ],
    ),
    "URO": (
        [
            ("uro_scrotal_us", ("76870",), ("N5089",)),
            ("uro_prostate_bx", ("55700", "76872", "76942"), ("R972",)),
            ("uro_renal_us", ("76770",), ("N200",)),
        ],
        [("BAD_uro_ct_abd_pelvis", ("74178",), ("N200",))],
    ),
    "OB": (
        [
            ("ob_first_trimester", ("76801",), ("Z3401",)),
            ("ob_complete", ("76805",), ("Z3402",)),
            ("ob_transvaginal", ("76830",), ("N939",)),
            ("ob_pelvic", ("76856",), ("R102",)),
        ],
        [("BAD_ob_mri_pelvis", ("72195",), ("N832",))],
    ),
    "VASC": (
        [
            ("vasc_carotid", ("93880",), ("I6523",)),
            ("vasc_le_arterial", ("93925",), ("I70213",)),
            ("vasc_le_venous", ("93970",), ("I8393",)),
        ],
        [("BAD_vasc_cta_neck", ("70498",), ("I6523",))],
    ),
    "PULM": (
        [
            ("pulm_chest_tc", ("99214", "71046:TC"), ("J449",)),
            ("pulm_em", ("99213",), ("J449",)),
        ],
        [
            ("BAD_pulm_ct_chest", ("71250",), ("R911",)),
            ("BAD_pulm_chest_global", ("71046",), ("J449",)),
        ],
    ),
}
RECIPES["PMR"] = RECIPES["ANES"]

# The rule each violation recipe breaks (the ruleset's id): the label is ground truth only if that
# rule rejects the claim, which tests/rules/test_generator_labels.py checks.
BREAKS: dict[str, str] = {
    "BAD_pcp_mri_brain_70553": "PRIV003",
    "BAD_pcp_chest_global_not_tc": "PRIV005",
    "BAD_pcp_76942_with_20610": "GUID010",
    "BAD_pcp_ct_head": "PRIV003",
    "BAD_rad_tc_and_26_same_line": "MOD001",
    "BAD_rad_deleted_76003": "CODE001",
    "BAD_rad_76942_with_20604": "GUID002",
    "BAD_card_cardiac_mri": "PRIV003",
    "BAD_card_carotid_global": "PRIV005",
    "BAD_ortho_76942_with_20611": "GUID002",
    "BAD_ortho_ct_leg": "PRIV003",
    "BAD_ortho_tc_and_26_same_line": "MOD001",
    "BAD_ortho_guidance_two_units": "GUID001",
    "BAD_ortho_77002_not_privileged": "PRIV004",
    "BAD_pod_us_guided_foot_injection": "GUID004",
    "BAD_pod_chest_xray": "PRIV004",
    "BAD_np_76942_guidance": "GUID003",
    "BAD_pain_nerve_block_us_76942": "GUID005",
    "BAD_pain_deleted_76003": "CODE001",
    "BAD_endo_ct_neck": "PRIV003",
    "BAD_uro_ct_abd_pelvis": "PRIV003",
    "BAD_ob_mri_pelvis": "PRIV003",
    "BAD_vasc_cta_neck": "PRIV003",
    "BAD_pulm_ct_chest": "PRIV003",
    "BAD_pulm_chest_global": "PRIV005",
    "BAD_no_prior_auth": "PRIV007",
}

# High-tech imaging that needs prior authorization (MRI/CT/echo/nuclear cardiology).
HITECH = {
    "70450", "70490", "70498", "70553", "71250", "72148", "72195", "73700", "73721", "74178",
    "75557", "78452", "93306",
}  # fmt: skip
# Echo and nuclear cardiology: the seed requires prior authorization (REF*G1) "for outpatient
# high-tech imaging services", whoever bills the code (a reading -26 too); omitting it on such a
# claim in an outpatient place of service is a violation, labelled "BAD_no_prior_auth/<recipe>".
PRIOR_AUTH_REQUIRED = {"93306", "78452", "A4641"}
# The ruleset's outpatient places of service ([settings] outpatient_pos): 21 (inpatient) is not.
OUTPATIENT_POS = {"11", "15", "17", "19", "20", "22", "24", "49", "50", "62", "65", "71", "72"}
PRIOR_AUTH_LINE = HITECH | PRIOR_AUTH_REQUIRED

_EM_CHARGE = {"99203": 180, "99212": 80, "99213": 120, "99214": 175, "99396": 240, "93000": 45}
FACILITY_POS = ("22", "22", "22", "19", "21")
FIRST_NAMES = ("ALEX", "SAM", "JORDAN", "TAYLOR", "CASEY", "RILEY", "MORGAN", "JAMIE")
CITIES = (
    ("SPRINGFIELD", "MA", "01101"),
    ("RIVERTON", "PA", "19103"),
    ("LAKEVIEW", "OH", "43215"),
    ("FAIRVIEW", "TX", "75001"),
    ("GREENVILLE", "NC", "27834"),
    ("MAPLETON", "UT", "84664"),
)


def npi_check_digit(base9: str) -> int:
    """Luhn check digit of an NPI: computed over the prefix 80840 + the first 9 digits."""
    total = 0
    for i, ch in enumerate(reversed("80840" + base9)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def npi_is_valid(npi: str) -> bool:
    """True when a 10-digit NPI passes the Luhn check with the 80840 prefix."""
    if len(npi) != 10 or not npi.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed("80840" + npi)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def make_npi(rng: random.Random) -> str:
    base = str(rng.randrange(100_000_000, 300_000_000))
    return base + str(npi_check_digit(base))


def _charge(code: str, mods: tuple[str, ...]) -> int:
    """Deterministic made-up charge: E/M fixed, others from the code digits; TC/26 split it."""
    base = _EM_CHARGE.get(code)
    if base is None:
        digits = int("".join(c for c in code if c.isdigit()) or "0")
        base = 90 + (digits * 7919) % 900
    if "26" in mods and "TC" in mods:
        return base
    if "26" in mods:
        return max(20, base * 35 // 100)
    if "TC" in mods:
        return max(20, base * 65 // 100)
    return base


# --------------------------------------------------------------------------------------------
# Pre-rendered building blocks
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class CompiledLine:
    """One service line with every byte except LX01, the date and the control numbers."""

    code: str
    sv1_pos: dict[str, str]  # claim POS -> "SV1*...*<pos>**ptr~" (SV105 present)
    sv1_nopos: str  # "SV1*...***ptr~" (SV105 absent)
    reader: bool
    charge: int


@dataclass(slots=True)
class CompiledRecipe:
    name: str
    bad: bool
    facility: bool
    hitech: bool
    needs_pa: bool
    hi: str
    lines: list[CompiledLine]
    total: int


def compile_recipe(recipe: Recipe) -> CompiledRecipe:
    name, line_specs, dx = recipe
    facility = name.startswith("F_")
    poss = FACILITY_POS if facility else ("11",)
    lines: list[CompiledLine] = []
    total = 0
    hitech = needs_pa = False
    for spec in line_specs:
        reader = spec.endswith("@R")
        spec = spec.removesuffix("@R")
        units = 1
        if "*" in spec:
            spec, u = spec.split("*")
            units = int(u)
        code, *mods = spec.split(":")
        mods_t = tuple(mods)
        hitech = hitech or code in PRIOR_AUTH_LINE
        needs_pa = needs_pa or code in PRIOR_AUTH_REQUIRED
        charge = _charge(code, mods_t) * units
        total += charge
        proc = ":".join(("HC", code, *mods_t))
        ptr = "1:2" if len(dx) > 1 and code.startswith("99") else "1"
        sv1_pos = {p: f"SV1*{proc}*{charge}*UN*{units}*{p}**{ptr}~" for p in set(poss)}
        sv1_nopos = f"SV1*{proc}*{charge}*UN*{units}***{ptr}~"
        lines.append(CompiledLine(code, sv1_pos, sv1_nopos, reader, charge))
    hi = "HI*" + "*".join(("ABK:" if i == 0 else "ABF:") + d for i, d in enumerate(dx)) + "~"
    bad = name.startswith("BAD_")
    return CompiledRecipe(name, bad, facility, hitech, needs_pa, hi, lines, total)


@dataclass(slots=True)
class Rendering:
    specialty: str
    npi: str
    nm1: str  # "NM1*82*1*...~"
    prv: str  # "PRV*PE*PXC*...~"


@dataclass(slots=True)
class Group:
    """A billing provider (2000A/2010AA) with its roster of rendering providers."""

    specialty: str
    npi: str
    block: str  # PRV*BI (optional) + NM1*85 + N3 + N4 + REF*EI, ready to follow the HL
    has_prv: bool
    roster: list[Rendering]
    good: dict[str, list[CompiledRecipe]] = field(default_factory=dict)
    bad: dict[str, list[CompiledRecipe]] = field(default_factory=dict)


@dataclass
class GenStats:
    claims: int = 0
    lines: int = 0
    segments: int = 0
    transactions: int = 0
    interchanges: int = 0
    bytes: int = 0
    seconds: float = 0.0
    bad_claims: int = 0
    no_prv_claims: int = 0
    with_2000c: int = 0
    recipes: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, object]:
        d = dict(self.__dict__)
        d["recipes"] = dict(sorted(self.recipes.items()))
        d["claims_per_second"] = round(self.claims / self.seconds) if self.seconds else None
        return d


class Generator:
    """Builds providers and recipes once per seed, then streams interchanges to a file."""

    def __init__(
        self,
        seed: int = 1,
        *,
        max_claims_per_st: int = 5000,
        groups: int = 400,
        violation_rate: float = 0.15,
        newlines: bool = False,
    ) -> None:
        if max_claims_per_st < 1:
            raise ValueError("max_claims_per_st must be >= 1")
        self.seed = seed
        self.rng = random.Random(seed)
        self.max_claims_per_st = max_claims_per_st
        self.violation_rate = violation_rate
        self.newlines = newlines
        self.compiled = {
            spec: ([compile_recipe(r) for r in good], [compile_recipe(r) for r in bad])
            for spec, (good, bad) in RECIPES.items()
        }
        self.readers = [self._rendering("RAD", f"READER{i}") for i in range(30)]
        self.groups = [self._group(i) for i in range(groups)]
        self.facilities = [
            f"NM1*77*2*SYNTHETIC GENERAL HOSPITAL {i}*****XX*{make_npi(self.rng)}~"
            f"N3*{100 + i} HOSPITAL DR~N4*{c}*{s}*{z}0000~"
            for i, (c, s, z) in enumerate(CITIES)
        ]
        self.dates_d8 = [f"D8*2026{m:02d}{d:02d}" for m in range(1, 12) for d in range(1, 29)]
        self.dates_rd8 = [f"RD8*2026{m:02d}{d:02d}-2026{m:02d}{d + 2:02d}" for m in range(1, 12)
                          for d in range(1, 26)]  # fmt: skip
        self.dobs = [
            f"{y}{m:02d}{d:02d}"
            for y in range(1940, 2024, 3)
            for m in (1, 4, 7, 10)
            for d in (3, 17)
        ]
        self.addresses = [
            f"N3*{10 + 7 * i} SYNTHETIC ST~N4*{c}*{s}*{z}~"
            for i, (c, s, z) in enumerate(CITIES * 8)
        ]
        self._claim_no = 0
        self._member_no = 0
        self._label_buf: list[str] = []  # "CLM01<TAB>recipe" per claim, flushed per ST

    # -- pools -------------------------------------------------------------------------------

    def _rendering(self, specialty: str, last: str) -> Rendering:
        first = self.rng.choice(FIRST_NAMES)
        npi = make_npi(self.rng)
        return Rendering(
            specialty,
            npi,
            f"NM1*82*1*{last}*{first}****XX*{npi}~",
            f"PRV*PE*PXC*{TAXONOMY[specialty]}~",
        )

    def _group(self, i: int) -> Group:
        rng = self.rng
        specialty = rng.choices(list(GROUP_WEIGHTS), weights=list(GROUP_WEIGHTS.values()))[0]
        has_prv = rng.random() >= 0.12
        city, state, zip5 = rng.choice(CITIES)
        name = f"SYNTHETIC {specialty} GROUP {i}"
        npi = make_npi(rng)
        block = (
            (f"PRV*BI*PXC*{TAXONOMY[specialty]}~" if has_prv else "")
            + f"NM1*85*2*{name}*****XX*{npi}~"
            + f"N3*{200 + i} PROVIDER WAY~N4*{city}*{state}*{zip5}1234~"
            + f"REF*EI*{rng.randrange(100000000, 999999999)}~"
        )
        if specialty == "MULTI":
            members = [rng.choice(MULTI_MEMBERS) for _ in range(rng.randint(4, 10))]
        else:
            members = [specialty] * rng.randint(1, 6)
            if specialty in PCP and rng.random() < 0.3:
                members.append("NP")
        roster = [self._rendering(m, f"DOCTOR{i}X{j}") for j, m in enumerate(members)]
        return Group(specialty, npi, block, has_prv, roster)

    def write_roster(self, fh: IO[str]) -> int:
        """Provider roster CSV (edi-gate --roster): every NPI with its taxonomy, open-ended.

        Why: claims without any PRV are realistic; the payer fills the taxonomy in from its
        roster, and the benchmark should exercise that path rather than reject them.
        """
        fh.write("npi,taxonomy,credential,effective,expires\n")
        seen: set[str] = set()
        people = [(g.npi, g.specialty) for g in self.groups]
        people += [(r.npi, r.specialty) for g in self.groups for r in g.roster]
        people += [(r.npi, r.specialty) for r in self.readers]
        for npi, specialty in people:
            if npi not in seen:  # a random NPI collision keeps its first owner
                seen.add(npi)
                fh.write(f"{npi},{TAXONOMY[specialty]},,,\n")
        return len(seen)

    # -- claims ------------------------------------------------------------------------------

    def _pick_recipe(self, specialty: str) -> CompiledRecipe:
        good, bad = self.compiled[specialty]
        rng = self.rng
        if bad and rng.random() < self.violation_rate:
            return bad[int(rng.random() * len(bad))]
        return good[int(rng.random() * len(good))]

    def _claim(self, group: Group, out: list[str], stats: GenStats) -> None:
        rng = self.rng
        self._claim_no += 1
        pcn = f"PCN{self.seed % 1000:03d}{self._claim_no:09d}"
        roster = group.roster
        r = rng.random()
        solo_ok = group.specialty != "MULTI"
        if solo_ok and r >= 0.80:
            rendering_block = ""  # billing provider renders: 2000A PRV*BI (if any) applies
            specialty = group.specialty
            if not group.has_prv:
                stats.no_prv_claims += 1
        else:
            rp = roster[int(rng.random() * len(roster))]
            specialty = rp.specialty
            if r < 0.72 or (not solo_ok and r < 0.90):
                rendering_block = rp.nm1 + rp.prv
            else:
                rendering_block = rp.nm1  # 2310B without PRV: roster fill-in needed
                if not group.has_prv:
                    stats.no_prv_claims += 1
        recipe = self._pick_recipe(specialty)
        stats.recipes[recipe.name] += 1

        if recipe.facility:
            pos = FACILITY_POS[int(rng.random() * len(FACILITY_POS))]
            sv105_rate = 0.5
        else:
            pos = "11"
            sv105_rate = 0.25
        claim_g1 = line_g1 = False
        label = recipe.name
        if recipe.hitech:
            if rng.random() < 0.9:
                if rng.random() < 0.7:
                    claim_g1 = True
                else:
                    line_g1 = True
            elif recipe.needs_pa and not recipe.bad and pos in OUTPATIENT_POS:
                label = "BAD_no_prior_auth/" + recipe.name
        self._label_buf.append(f"{pcn}\t{label}\n")
        if label.startswith("BAD_"):
            stats.bad_claims += 1
        parts = [f"CLM*{pcn}*{recipe.total}***{pos}:B:1*Y*A*Y*Y~"]
        if claim_g1:
            parts.append(f"REF*G1*PA{self._claim_no:010d}~")
        parts.append(recipe.hi)
        parts.append(rendering_block)
        if recipe.facility:
            parts.append(self.facilities[self._claim_no % len(self.facilities)])
        if rng.random() < 0.02:
            date = self.dates_rd8[int(rng.random() * len(self.dates_rd8))]
        else:
            date = self.dates_d8[int(rng.random() * len(self.dates_d8))]
        for i, line in enumerate(recipe.lines, 1):
            sv1 = line.sv1_pos[pos] if rng.random() < sv105_rate else line.sv1_nopos
            g1 = (
                f"REF*G1*PA{self._claim_no:010d}~"
                if line_g1 and line.code in PRIOR_AUTH_LINE
                else ""
            )
            parts.append(f"LX*{i}~{sv1}DTP*472*{date}~{g1}REF*6R*{pcn}L{i}~")
            if line.reader:
                rd = self.readers[self._claim_no % len(self.readers)]
                parts.append(rd.nm1 + rd.prv)
            elif len(roster) > 1 and rng.random() < 0.02:
                colleague = roster[int(rng.random() * len(roster))]
                if colleague.specialty == specialty:
                    parts.append(colleague.nm1 + colleague.prv)
        stats.lines += len(recipe.lines)
        out.append("".join(parts))

    def _transaction(self, st_no: int, n_claims: int, stats: GenStats) -> str:
        """One ST..SE with n_claims claims spread over billing providers and subscribers."""
        rng = self.rng
        out: list[str] = [
            f"ST*837*{st_no:04d}*005010X222A1~",
            f"BHT*0019*00*B{self.seed % 100000:05d}{st_no:07d}*20261120*0900*CH~",
            "NM1*41*2*SYNTHETIC CLEARINGHOUSE*****46*SYNSUBMIT01~",
            "PER*IC*EDI DESK*TE*5555550100~",
            "NM1*40*2*SYNTHETIC HEALTH PLAN*****46*SYNPAYER01~",
        ]
        hl = 0
        remaining = n_claims
        while remaining > 0:
            group = self.groups[int(rng.random() * len(self.groups))]
            k = min(remaining, 1 + int(rng.expovariate(1 / 30)))
            remaining -= k
            hl += 1
            billing_hl = hl
            out.append(f"HL*{hl}**20*1~{group.block}")
            while k > 0:
                c = min(k, (1, 1, 1, 2, 2, 3)[int(rng.random() * 6)])
                k -= c
                self._member_no += 1
                m = self._member_no
                dependent = rng.random() < 0.2
                hl += 1
                sub_hl = hl
                first = FIRST_NAMES[m % len(FIRST_NAMES)]
                addr = self.addresses[m % len(self.addresses)]
                dob = self.dobs[int(rng.random() * len(self.dobs))]
                sex = "F" if m & 1 else "M"
                out.append(
                    f"HL*{hl}*{billing_hl}*22*{1 if dependent else 0}~"
                    f"SBR*P*{'' if dependent else '18'}*GRP{m % 997:05d}******CI~"
                    f"NM1*IL*1*PATIENT{m}*{first}****MI*M{m:010d}~{addr}DMG*D8*{dob}*{sex}~"
                    "NM1*PR*2*SYNTHETIC HEALTH PLAN*****PI*SYNPLAN01~"
                )
                if dependent:
                    self._member_no += 1
                    p = self._member_no
                    hl += 1
                    stats.with_2000c += c
                    out.append(
                        f"HL*{hl}*{sub_hl}*23*0~PAT*19~"
                        f"NM1*QC*1*PATIENT{p}*{FIRST_NAMES[p % len(FIRST_NAMES)]}~{addr}"
                        f"DMG*D8*{self.dobs[int(rng.random() * len(self.dobs))]}*"
                        f"{'F' if p & 1 else 'M'}~"
                    )
                for _ in range(c):
                    self._claim(group, out, stats)
        body = "".join(out)
        nseg = body.count("~") + 1
        stats.segments += nseg
        stats.claims += n_claims
        stats.transactions += 1
        return f"{body}SE*{nseg}*{st_no:04d}~"

    def _st_sizes(self, n: int) -> list[int]:
        """Split n claims into ST sizes between max/2 and max (last one may be smaller)."""
        sizes: list[int] = []
        mx = self.max_claims_per_st
        while n > 0:
            s = min(n, self.rng.randint(max(1, mx // 2), mx))
            sizes.append(s)
            n -= s
        return sizes

    def write(
        self,
        fh: IO[bytes],
        claims: int,
        interchanges: int | None = None,
        labels: IO[str] | None = None,
    ) -> GenStats:
        """Stream `claims` claims over `interchanges` ISA/GS envelopes (default ~25k claims each).

        `labels`, if given, receives one "CLM01<TAB>recipe" line per claim (ground truth: recipe
        names starting with BAD_ break a payer rule).
        """
        t0 = time.perf_counter()
        stats = GenStats()
        self._label_buf.clear()
        if interchanges is None:
            interchanges = max(1, -(-claims // 25_000))
        interchanges = max(1, min(interchanges, claims or 1))
        per, extra = divmod(claims, interchanges)
        st_no = 0

        def emit(text: str) -> None:
            if self.newlines:
                text = text.replace("~", "~\n")
            b = text.encode("ascii")
            fh.write(b)
            stats.bytes += len(b)

        for ix in range(1, interchanges + 1):
            n = per + (1 if ix <= extra else 0)
            sizes = self._st_sizes(n)
            emit(
                "ISA*00*          *00*          *ZZ*SYNSUBMIT01    *ZZ*SYNPAYER01     "
                f"*261120*0900*^*00501*{ix:09d}*0*T*:~GS*HC*SYNSUBMIT01*SYNPAYER01*20261120*0900*"
                f"{ix}*X*005010X222A1~"
            )
            for size in sizes:
                st_no += 1
                emit(self._transaction(st_no, size, stats))
                if labels is not None:
                    labels.write("".join(self._label_buf))
                self._label_buf.clear()
            emit(f"GE*{len(sizes)}*{ix}~IEA*1*{ix:09d}~")
            stats.interchanges += 1
            stats.segments += 4
        stats.seconds = time.perf_counter() - t0
        return stats


def generate(
    path: str | Path,
    claims: int,
    seed: int = 1,
    *,
    max_claims_per_st: int = 5000,
    interchanges: int | None = None,
    violation_rate: float = 0.15,
    newlines: bool = False,
    labels: str | Path | None = None,
    roster: str | Path | None = None,
) -> GenStats:
    """Write a synthetic 837P with `claims` claims to `path`; same arguments -> same bytes."""
    gen = Generator(
        seed, max_claims_per_st=max_claims_per_st, violation_rate=violation_rate, newlines=newlines
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if roster is not None:
        with open(roster, "w", encoding="ascii") as rf:
            gen.write_roster(rf)
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb", buffering=1 << 20) as fh:
        if labels is None:
            stats = gen.write(fh, claims, interchanges)
        else:
            with open(labels, "w", encoding="ascii") as lf:
                stats = gen.write(fh, claims, interchanges, lf)
    tmp.replace(path)  # never leave a half-written file under the final (cached) name
    return stats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench.generate", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--claims", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--max-claims-per-st", type=int, default=5000)
    ap.add_argument("--interchanges", type=int, default=None, help="default: one per 25k claims")
    ap.add_argument("--violation-rate", type=float, default=0.15)
    ap.add_argument("--newlines", action="store_true", help="newline after each terminator")
    ap.add_argument("--labels", help="write CLM01<TAB>recipe ground truth to this file")
    ap.add_argument("--roster", help="write the provider roster CSV (edi-gate --roster) here")
    ap.add_argument("--stats", action="store_true", help="print recipe counts as JSON")
    args = ap.parse_args(argv)
    stats = generate(
        args.output,
        args.claims,
        args.seed,
        max_claims_per_st=args.max_claims_per_st,
        interchanges=args.interchanges,
        violation_rate=args.violation_rate,
        newlines=args.newlines,
        labels=args.labels,
        roster=args.roster,
    )
    d = stats.as_dict()
    if not args.stats:
        d.pop("recipes")
    print(json.dumps(d, indent=2 if args.stats else None), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
