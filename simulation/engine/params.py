"""The model's parameters: every weight of the theory, with unit, default and bounds, documented once.

A scenario file may override any of them by name; calibration searches inside `bounds`.
All weights are dimensionless unless a unit is given.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from simulation.rules.types import Weight

#: The committed calibration (written by `simulation calibrate ... --write-baseline`).
CALIBRATED = Path(__file__).parents[1] / "data" / "calibrated.json"


#: Model variants that switch a theory off: the weights each fixes, and at what. The calibration
#: ablation refits each; the score report uses "balance of power only" as a baseline.
ABLATIONS: dict[str, dict[str, float]] = {
    "full model": {},
    "balance of threat only": {"power_weight": 0.0, "pole_weight": 0.0},
    "balance of power only": {"threat_weight": 0.0, "intent_weight": 0.0, "affinity_weight": 0.0,
                              "interest_weight": 0.0, "dilemma_weight": 0.0, "structural_weight": 0.0,
                              "trade_weight": 0.0, "omnibalancing_weight": 0.0},
    "without self-interest": {"interest_weight": 0.0},
    "without inertia": {"inertia": 0.0, "bipolar_inertia": 0.0},
    "without structural balance": {"structural_weight": 0.0},
    "without attribution asymmetry": {"attribution_weight": 0.0},
    "without nuclear deterrence": {"deterrence_weight": 0.0},
    "without interdependence": {"trade_weight": 0.0},
    "without divisive doctrine": {"schism_weight": 0.0},
    "without omnibalancing": {"omnibalancing_weight": 0.0},
    "without inherited grievance": {"takeover_weight": 0.0},
}


def _p(default: float, lo: float, hi: float, doc: str, unit: str = "", fitted: bool = True,
       stage: str = "rules") -> Any:
    """A parameter: its default, bounds, meaning and unit. `fitted` ones are searched by calibration;
    the others are fixed at their documented value (a judgement or a coding convention, said in `doc`).
    `stage` "inputs" marks a parameter that codes the data into inputs (it takes effect when a
    scenario's inputs are built, so a sweep cannot vary it)."""
    return field(default=default, metadata={"bounds": (lo, hi), "doc": doc, "unit": unit, "fitted": fitted,
                                            "stage": stage})


def _judgement(default: float, doc: str) -> Any:
    """A share in [0, 1] that shapes a rule, fixed by judgement rather than fitted."""
    return _p(default, 0.0, 1.0, doc + " (fixed by judgement)", fitted=False)


def _coding(default: float, doc: str) -> Any:
    """A convention in [0, 1] for coding the data into inputs (fixed; it acts when inputs are built)."""
    return _p(default, 0.0, 1.0, doc + " (a coding convention)", fitted=False, stage="inputs")


@dataclass(frozen=True)
class Parameters:
    """Weights of the rules (simulation.rules) and of the year-to-year dynamics.

    Each field is one float, or (in a batch of runs) an array with one value per run."""

    # --- Balance of threat (Walt 1987): how threat is perceived -------------------------------
    reach_km: Weight = _p(
        2500.0, 500.0, 8000.0,
        "distance at which a non-neighbour's projected power falls to 1/e, for the strongest state "
        "(Boulding's loss-of-strength gradient); weaker states reach proportionally less",
        "km",
    )
    global_reach: Weight = _p(
        0.5, 0.0, 1.0,
        "proximity every state feels from the largest military spender (bases, fleets, missiles); "
        "others in proportion to their spending",
    )
    offence_weight: Weight = _p(
        0.5, 0.0, 1.0, "share of threat capacity that depends on offensive power (military spending, nuclear arms)"
    )
    intent_memory: Weight = _p(
        0.85, 0.5, 0.98, "share of last year's perceived aggressive intent kept this year (perceptions fade without new acts)",
        "per year",
    )
    act_impact: Weight = _p(0.6, 0.05, 1.5, "rise of i's perceived intent of j per unit of a hostile act by j against i")
    act_spillover: Weight = _p(
        0.35, 0.0, 1.0, "share of a hostile act's impact felt by third parties (aggression reveals intentions to all)"
    )
    attribution_weight: Weight = _p(
        0.5, 0.0, 1.0, "share of a partner's hostile act excused as forced by circumstance, per unit of alignment, "
        "unless answered in kind (Jervis 1976; Mercer 1996; rules.threat.attribution)")
    ideology_weight: Weight = _p(
        0.25, 0.0, 1.0, "perceived intent contributed by ideological distance (Walt: ideology matters less than threat)"
    )
    schism_weight: Weight = _p(
        0.5, 0.0, 2.0, "perceived intent between two near-equal regimes whose common doctrine admits one centre "
        "(Walt 1987 ch. 6: divisive ideologies; rules.threat.divisive_doctrine)")
    regime_reset: Weight = _p(
        0.6, 0.0, 1.0,
        "share of remembered grievances dropped when a state's regime changes: new rulers perceive, and are "
        "perceived, partly afresh",
    )
    takeover_weight: Weight = _p(
        0.5, 0.0, 1.0, "perceived intent between a regime that won a civil war and each state aligned with the "
        "government it overthrew, per unit of that alignment (Walt 1996; rules.threat.inherited_grievance)")
    dilemma_weight: Weight = _p(
        0.35, 0.0, 1.0,
        "security dilemma: perceived intent of j when j is aligned with i's rival (Herz 1950; Jervis 1978; Kosar 2024 §1.8.3)",
    )
    # --- Balance of power (Waltz 1979) --------------------------------------------------------
    threat_weight: Weight = _p(1.0, 0.0, 3.0, "weight of Walt's threat (capacity x intent) in the effective threat")
    intent_weight: Weight = _p(
        0.5, 0.0, 3.0,
        "threat from perceived aggressive intent alone, whatever the power behind it (Walt 1987: states seen as "
        "aggressive provoke balancing even when weak)",
    )
    coalition_weight: Weight = _p(
        0.5, 0.0, 1.0, "share of j's allies' power that counts in j's threat capacity (Walt: aggregate power of a coalition)"
    )
    power_weight: Weight = _p(
        0.5, 0.0, 3.0, "weight of Waltz's pure power term (a neighbour's relative power; the rival pole) in the effective threat"
    )
    pole_weight: Weight = _p(0.5, 0.0, 2.0, "extra power threat between the two poles, scaled by how bipolar the system is")
    deterrence_weight: Weight = _p(
        0.3, 0.0, 1.0, "share of a nuclear-armed rival's power threat discounted when the perceiver is nuclear-armed "
        "too (mutual deterrence: Waltz 1981; Jervis 1989; rules.threat.deterrence)")
    # --- Alignment choice ----------------------------------------------------------------------
    balancing_weight: Weight = _p(
        2.0, 0.0, 6.0, "pull toward a state that shares i's threats and can help against them (external balancing)"
    )
    ally_power_exponent: Weight = _p(
        1.0, 0.0, 1.0,
        "how much an ally's worth against a threat depends on its own power (1) rather than only on its "
        "place near the threat (0)",
    )
    affinity_weight: Weight = _p(
        0.3, 0.0, 2.0, "pull between ideologically close regimes (Walt 1987 ch. 6: ideological solidarity, weaker than threat)"
    )
    self_reliance_weight: Weight = _p(
        0.6, 0.0, 1.0, "how much a state strong relative to its main threat relies on itself instead of allies (internal balancing)"
    )
    bandwagon_weight: Weight = _p(
        1.0, 0.0, 3.0, "pull of a weak state toward an overwhelming, nearby threat when no ally is in reach (Walt 1987)"
    )
    interest_weight: Weight = _p(
        1.0, 0.0, 4.0, "pull of material self-interest: arms, aid, energy, markets (Kosar 2024 §1.8.4; docs/theory.md §5)"
    )
    installed_base_weight: Weight = _p(
        0.5, 0.0, 2.0, "pull of an installed base of arms between buyer and supplier (spares, training, doctrine), "
        "per unit of the share of the buyer's forces the supplier built (rules.interest.self_interest)")
    stake_weight: Weight = _p(
        0.5, 0.0, 2.0, "pull of last year's aid and invited troops between giver and receiver, per unit of flow "
        "(rules.interest.self_interest)")
    omnibalancing_weight: Weight = _p(
        1.0, 0.0, 4.0, "pull of a government fighting insurgents at home toward a patron whose military power "
        "reaches it, per unit of conflict intensity times the patron's spending (David 1991; "
        "rules.choice.omnibalancing)")
    structural_weight: Weight = _p(
        0.5, 0.0, 3.0, "cost of warming to the enemy of a friend, per unit of the friendship times the enmity "
        "(structural balance: Heider 1946; Cartwright & Harary 1956; rules.choice.structural_balance)")
    trade_weight: Weight = _p(
        0.5, 0.0, 3.0, "pull of expected gains from trade, per unit of the partner's share of the trade a gravity "
        "model predicts from GDP and distance (Russett & Oneal 2001; rules.interest.trade_dependence)")
    gain: Weight = _p(2.0, 0.2, 6.0, "steepness of the map from net motive to desired stance (tanh)")
    # --- Dynamics ------------------------------------------------------------------------------
    inertia: Weight = _p(0.75, 0.0, 0.95, "share of last year's stance kept each year (alignments are sticky; the "
                         "lower bound was 0.3 until the 1947-1990 fit pressed on it)", "per year")
    bipolar_inertia: Weight = _p(
        0.1, 0.0, 0.3, "extra stickiness in a bipolar system (Waltz: bipolarity stabilises alignments)", "per year"
    )
    noise: Weight = _p(0.05, 0.0, 0.3, "standard deviation of the yearly idiosyncratic shock to each stance",
                       fitted=False)
    max_inertia: Weight = _p(0.99, 0.9, 1.0, "cap on the share of last year's stance kept: every stance still moves "
                             "(fixed: a convention)", "per year", fitted=False)
    # --- Fixed by judgement: shapes of the rules, not fitted -------------------------------------
    frontline_weight: Weight = _judgement(0.5, "share of an ally's help against a threat that depends on its nearness "
                                          "to the threat; the rest it gives from anywhere")
    nuclear_offence: Weight = _judgement(0.5, "share of offensive power that nuclear arms make up; the rest is "
                                         "relative military spending (Walt 1987 ch. 2)")
    near_victim_weight: Weight = _judgement(0.5, "share of a witnessed act's impact that depends on the witness's "
                                            "nearness to the victim")
    outside_witness_share: Weight = _judgement(0.5, "an act against a state outside the six counts as this share of "
                                               "one against a neighbour of the six")
    sanction_grievance: Weight = _judgement(0.5, "perceived intent a sanctioned state reads into the sanctioner, "
                                            "per unit of sanction")
    # --- Instruments: the shapes of the choice rules (rules.instruments), fixed by judgement ---------
    arms_openness: Weight = _judgement(0.3, "how far below a neutral stance a state still sells or buys arms: at "
                                       "stance 0 it deals at 0.3/1.3 of what it gives a close ally (commercial "
                                       "sales at arm's length)")
    outside_arms_supply: Weight = _judgement(0.1, "arms suppliers outside the six (Britain, France, ...) as an offer "
                                             "to every buyer, in units of a supplier with all of the six's export "
                                             "capacity offering freely (their exports were about a fifth of the "
                                             "six's in 1950-1990, SIPRI)")
    sanction_threshold: Weight = _p(0.4, 0.0, 0.9, "hostility of a stance beyond which a state sanctions (Drezner "
                                    "1999: sanctions come from adversaries; fixed by judgement)", fitted=False)
    waiver_stance: Weight = _p(0.4, 0.05, 1.0, "stance at which a state fully waives a sanction its own law mandates "
                               "(the 1981 and 2001 waivers for Pakistan; fixed by judgement)", fitted=False)
    invitation_threshold: Weight = _p(0.4, 0.0, 0.9, "warmth of a stance beyond which a host invites, and a guest "
                                      "sends, troops (fixed by judgement)", fitted=False)
    base_persistence: Weight = _p(0.93, 0.5, 0.99, "share of the installed base of arms kept each year (major "
                                  "platforms serve 20-30 years: a half-life of about 10; fixed by judgement)",
                                  "per year", fitted=False)
    # --- Coding of the data into inputs (conventions; act when inputs are built) -------------------
    act_threat: Weight = _coding(0.15, "act intensity of a MID side at hostility level 2, a threat to use force "
                                 "(COW MID v5.0; level 1 counts 0 and war, level 5, counts 1)")
    act_display: Weight = _coding(0.3, "act intensity of a MID side at hostility level 3, a display of force")
    act_use: Weight = _coding(0.6, "act intensity of a MID side at hostility level 4, a use of force that killed")
    nonfatal_force_share: Weight = _coding(0.5, "share of a use of force's intensity when the MID records no fatality")
    unknown_fatality_share: Weight = _coding(0.75, "share of a use of force's intensity when the MID's fatalities are "
                                             "unknown (-9)")
    prior_rivalry_intent: Weight = _coding(0.5, "perceived intent, at the start, between states whose strategic "
                                           "rivalry predates it (Thompson, Sakuwa & Suhas 2022)")

    @classmethod
    def baseline(cls, path: Path = CALIBRATED) -> Parameters:
        """The calibrated parameters every scenario starts from (theory defaults if none are committed)."""
        if not path.exists():
            return cls()
        fitted = json.loads(path.read_text(encoding="utf-8"))["parameters"]
        return replace(cls(), **{k: float(v) for k, v in fitted.items() if k in cls.names()})

    @classmethod
    def variant(cls, name: str, path: Path = CALIBRATED) -> Parameters:
        """A model variant (a theory of ABLATIONS) with its own calibrated weights, as recorded by
        `calibrate --ablation --write-baseline`; the full model is the baseline."""
        if name == "full model":
            return cls.baseline(path)
        variants = json.loads(path.read_text(encoding="utf-8")).get("variants", {}) if path.exists() else {}
        if name not in variants:
            raise KeyError(f"no calibration of the variant {name!r} is recorded; run calibrate --ablation "
                           "--write-baseline")
        fitted = variants[name]["parameters"]
        return replace(cls(), **{k: float(v) for k, v in fitted.items() if k in cls.names()})

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def fitted(cls) -> tuple[str, ...]:
        """The parameters calibration searches (the others are fixed at their documented values)."""
        return tuple(f.name for f in fields(cls) if f.metadata["fitted"])

    @classmethod
    def input_stage(cls) -> tuple[str, ...]:
        """The parameters that code the data into inputs (they act when inputs are built)."""
        return tuple(f.name for f in fields(cls) if f.metadata["stage"] == "inputs")

    @classmethod
    def bounds(cls) -> dict[str, tuple[float, float]]:
        return {f.name: f.metadata["bounds"] for f in fields(cls)}

    @classmethod
    def docs(cls) -> dict[str, str]:
        return {f.name: f.metadata["doc"] + (f" [{f.metadata['unit']}]" if f.metadata["unit"] else "") for f in fields(cls)}

    def with_overrides(self, overrides: dict[str, float]) -> Parameters:
        """A copy with some values replaced; names and bounds are checked by the caller's schema."""
        return replace(self, **{k: float(v) for k, v in overrides.items()})

    @classmethod
    def stack(cls, points: list[Parameters]) -> Parameters:
        """One Parameters whose every field is an array with one value per run (for batch runs)."""
        return cls(**{n: np.array([getattr(p, n) for p in points], dtype=float) for n in cls.names()})

    def vary(self, names: list[str] | tuple[str, ...], table: np.ndarray) -> Parameters:
        """One Parameters for a batch of runs in which `names` take one value per run (the columns of
        `table`, shape (B, len(names))) and every other field keeps this instance's value."""
        return replace(self, **{n: np.asarray(table[:, c], dtype=float) for c, n in enumerate(names)})

    def as_dict(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in self.names()}
