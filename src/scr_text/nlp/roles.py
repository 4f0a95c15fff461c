"""Who harmed the child, as a review says it: the family roles named in the sentences that say someone
caused the harm, and the agents of the domestic abuse, with named adults ("Mr X") resolved to the role
they are introduced with ("Mr X, Mother's partner"). Cue words and roles come from ``configs/facts.yaml``;
the facts stage weighs what this finds."""
from __future__ import annotations

import re

import numpy as np

from scr_text.records import Passage

_CLAUSE = re.compile(r";|\bbut\b|\bwhile\b|\bwhereas\b")
_DENIAL = re.compile(r"\b(?:not|never|no one|nobody|none|without)\b", re.IGNORECASE)


class RoleFinder:
    """Which family role is named in the sentences that say someone harmed the child."""

    def __init__(self, cfg: dict):
        perp = cfg["perpetrator"]
        self.roles = list(perp["roles"])
        self.role_patterns = {
            role: re.compile(r"\b(?:" + "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True)) + r")\b",
                             re.IGNORECASE)
            for role, phrases in perp["roles"].items()
        }
        # Longest phrases first, so that "Mother's partner" is not also counted as Mother.
        self.role_order = sorted(range(len(self.roles)), key=lambda j: -max(len(p) for p in perp["roles"][self.roles[j]]))
        self.harm = re.compile(r"\b(?:" + "|".join(re.escape(c) for c in perp["harm_cues"]) + r")\b", re.IGNORECASE)
        self.weak_harm = re.compile(r"\b(?:" + "|".join(re.escape(c) for c in perp.get("weak_harm_cues", [])) + r")\b",
                                    re.IGNORECASE)
        self.unknown = re.compile("|".join(re.escape(c) for c in perp["unknown_cues"]), re.IGNORECASE)
        self.alias = re.compile(perp["alias_pattern"])
        self.agent_cues = re.compile(r"\b(?:" + "|".join(re.escape(c) for c in cfg["domestic_abuse_agents"]["cues"]) + r")\b",
                                     re.IGNORECASE)

    def aliases(self, text: str) -> dict[str, str]:
        """Named adults and the role they are introduced with: "Mr X, Mother's partner" / "Mother's partner, Mr X"."""
        out: dict[str, str] = {}
        for m in self.alias.finditer(text):
            window_after = text[m.end(): m.end() + 45]
            window_before = text[max(0, m.start() - 45): m.start()]
            for role, pattern in self.role_patterns.items():
                if role in ("mother", "father") or m.group(0) in out:
                    continue
                after = pattern.search(window_after)
                before = list(pattern.finditer(window_before))
                # "Mr X, Mother's partner" / "Mother's partner, Mr X" / "Mother's partner at the time, Mr X"
                if (after and after.start() <= 6) or (before and before[-1].end() >= len(window_before) - 16
                                                      and window_before.rstrip().endswith(",")):
                    out[m.group(0)] = role
        return out

    def _role_counts(self, sentence: str, aliases: dict[str, str]) -> np.ndarray:
        x = np.zeros(len(self.roles))
        text = sentence
        for name, role in aliases.items():
            n = len(re.findall(re.escape(name) + r"\b", text))
            x[self.roles.index(role)] += n
            text = re.sub(re.escape(name) + r"\b", " ", text)
        for j in self.role_order:
            pattern = self.role_patterns[self.roles[j]]
            x[j] += len(pattern.findall(text))
            text = pattern.sub(" ", text)
        return x

    def _agents(self, sentence: str, aliases: dict[str, str]) -> np.ndarray:
        """Who is the agent of the abuse in a sentence: roles named before the abuse verb in each
        clause ("Mr X assaulted Mother" counts Mr X, not Mother). Named adults with no known role count
        in an extra last column, so that they can outrank a role without being taken for one."""
        x = np.zeros(len(self.roles) + 1)
        for clause in _CLAUSE.split(sentence):
            cue = self.agent_cues.search(clause)
            if not cue or _DENIAL.search(clause):
                continue
            subject = clause[: cue.start()]
            x[:-1] += self._role_counts(subject, aliases)
            x[-1] += sum(1 for m in self.alias.finditer(subject) if m.group(0) not in aliases)
        return x

    def features(self, passages: list[Passage], opening: set[int], da_passages):
        """(harm-role counts, DA-agent role counts, unknown cues, passages with harm sentences, opening role counts)."""
        full = "\n\n".join(p.text for p in passages)
        aliases = self.aliases(full)
        harm = np.zeros(len(self.roles))
        agents = np.zeros(len(self.roles) + 1)
        later = np.zeros(len(self.roles))
        named = np.zeros(len(self.roles))  # any mention in the opening passages: the fallback
        unknown = 0.0
        where = []
        for i, p in enumerate(passages):
            sents = [s.text for s in p.analysis.sents] if p.analysis is not None else re.split(r"(?<=[.!?])\s+", p.text)
            w = 3.0 if i in opening else 1.0
            for s in sents:
                if i in opening:
                    named += self._role_counts(s, aliases)
                if self.unknown.search(s):
                    unknown += w
                if da_passages[i]:
                    agents += self._agents(s, aliases)
                # "Mr X was convicted of murder; Mother was not charged": count clause by clause, skipping denials.
                for clause in _CLAUSE.split(s):
                    strength = 3.0 if self.harm.search(clause) else 1.0 if self.weak_harm.search(clause) else 0.0
                    if strength and not _DENIAL.search(clause):
                        counts = self._role_counts(clause, aliases)
                        if counts.any():
                            (harm if i in opening else later)[:] += strength * counts
                            if i not in where:
                                where.append(i)
        # What happened is told at the start; later harm sentences speak only when the start is silent.
        harm = harm if harm.any() else later
        return harm, agents, unknown, where, named
