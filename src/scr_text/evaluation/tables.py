"""The evaluation results as the plain-text tables `evaluate` prints, and the lines on its targets."""
from __future__ import annotations

from scr_text.formatting import format_number


def format_intervals(result: dict) -> str:
    """The intervals of ``f1_intervals`` as plain-text tables."""
    def fmt(value, spec=".3f"):
        return "n/a" if value is None else format(value, spec)

    def span(bounds, spec=".3f"):
        return f"{fmt(bounds[0], spec)} to {fmt(bounds[1], spec)}"

    def how(m):  # said only where an interval is not BCa
        return "" if m.get("method", "BCa") == "BCa" else f"  ({m['method']})"

    leads = result.get("combined_lead", {})
    lines = [f"macro-F1 with 95% intervals over {result['resamples']} resamples of the {result['reviews']} reviews:",
             f"{'system':<22}{'macro-F1':>10}{'interval':>18}"
             + (f"{'combined lead':>16}{'interval':>20}{'ahead in':>10}" if leads else "")]
    for name, m in result["macro_f1"].items():
        line = f"{name:<22}{format_number(m['point'], 10)}{span(m['interval']):>18}"
        if name in leads:
            lead = leads[name]
            line += f"{fmt(lead['point'], '+.3f'):>16}{span(lead['interval'], '+.3f'):>20}{fmt(lead['share_ahead'], '.1%'):>10}"
        lines.append(line + how(m) + how(leads.get(name, {})))
    per_code = result["per_code"]
    lines += ["", f"{per_code['system']} F1 per code with 95% intervals:", f"{'code':<22}{'F1':>10}{'interval':>18}"]
    lines += [f"{code:<22}{format_number(m['point'], 10)}{span(m['interval']):>18}{how(m)}"
              for code, m in per_code["codes"].items()]
    return "\n".join(lines)

def format_splits(result: dict, systems=("combined", "rules", "baseline")) -> str:
    """The held-out parts of a ``splits`` cross-validation, a row each."""
    systems = [s for s in systems if s in result["systems"]]
    lines = [f"{'held out':<26}{'reviews':>8}{'passages':>9}" + "".join(f"{s:>12}" for s in systems)]
    for name, part in result["splits"].items():
        lines.append(f"{name:<26}{part['reviews']:>8}{part['passages']:>9}"
                     + "".join(format_number(part["macro_f1"][s], 12) for s in systems))
    return "\n".join(lines)

def target_lines(result: dict, targets: dict, kind: str) -> list[str]:
    """The combined tagger against the targets (settings ``evaluate.targets``): ``kind`` is "folds" (grouped
    K-fold) or "styles" (leave one style out)."""
    combined = result["systems"]["combined"]
    lines = []
    goal = targets.get("styles_macro_f1" if kind == "styles" else "folds_macro_f1")
    if goal is not None:
        f1 = combined["macro"]["f1"]
        what = "leave-one-style-out" if kind == "styles" else f"grouped {result['folds']}-fold"
        lines.append(f"target: {what} macro-F1 >= {goal}: {f1:.3f} {'met' if f1 >= goal else 'NOT met'}")
    floor = targets.get("code_f1")
    if floor is not None:
        low = [f"{r['code']} {r['f1']:.3f}" for r in combined["per_code"] if r["f1"] is not None and r["f1"] < floor]
        lines.append(f"target: every code's F1 >= {floor}: " + ("met" if not low else "NOT met (" + ", ".join(low) + ")"))
    return lines

def format_table(result: dict, systems=None) -> str:
    """A plain-text table: one row per code, F1 for each system (and P/R/kappa of the combined tagger)."""
    systems = systems or list(result["systems"])
    first = result["systems"][systems[0]]
    lines = []
    width = {s: max(15, len(s) + 5) for s in systems}  # a long system name still leaves a gap
    header = f"{'code':<22}" + "".join(f"{s + ' F1':>{width[s]}}" for s in systems)
    main = "combined" if "combined" in systems else systems[0]
    header += f"{main + ' P':>13}{main + ' R':>13}{main + ' kappa':>17}"
    lines.append(header)
    for j, row in enumerate(first["per_code"]):
        line = f"{row['code']:<22}" + "".join(format_number(result["systems"][s]["per_code"][j]["f1"], width[s]) for s in systems)
        m = result["systems"][main]["per_code"][j]
        line += format_number(m["precision"], 13) + format_number(m["recall"], 13) + format_number(m["kappa"], 17)
        lines.append(line)
    line = f"{'macro':<22}" + "".join(f"{result['systems'][s]['macro']['f1']:>{width[s]}.3f}" for s in systems)
    m = result["systems"][main]["macro"]
    lines.append(line + f"{m['precision']:>13.3f}{m['recall']:>13.3f}{m['kappa']:>17.3f}")
    return "\n".join(lines)
