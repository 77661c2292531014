"""Known prompt-injection shapes, matched by rule: they catch the textbook attacks the
classifier may score low on short or oddly formatted prompts, and explain themselves."""

from __future__ import annotations

import re

# Zero-width, bidi-override and Unicode tag characters hide instructions from human reviewers.
INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]")

RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "ignore_previous",
        re.compile(
            r"(?i)\b(?:ignore|disregard|forget|override|bypass|skip)\b[\w\s,']{0,30}?\b(?:previous|prior|above|"
            r"earlier|preceding|all|any|your|the)\b[\w\s,']{0,20}?\b(?:instructions?|prompts?|rules|directions|"
            r"guidelines|context|messages?|guardrails|restrictions)\b"
        ),
    ),
    (
        "role_override",
        re.compile(
            r"(?i)\b(?:you are now|from now on,? you are|pretend (?:to be|you are)|act as|roleplay as|"
            r"you will now act as)\b[^.\n]{0,60}\b(?:DAN|unfiltered|uncensored|unrestricted|jailbroken|"
            r"without (?:any )?(?:restrictions|filters|rules|limits)|no (?:restrictions|filters|rules|limits)|"
            r"developer mode|evil)"
        ),
    ),
    ("developer_mode", re.compile(r"(?i)\b(?:developer|god|sudo|admin|debug) mode (?:enabled|activated|on)\b")),
    (
        "reveal_system_prompt",
        re.compile(
            r"(?i)\b(?:reveal|print|show|repeat|output|leak|display|tell me)\b[\w\s,']{0,25}\b(?:your|the)\s+"
            r"(?:system|initial|hidden|original|secret)\s+(?:prompt|instructions|message)"
        ),
    ),
    (
        "delimiter_attack",
        re.compile(
            r"(?i)(?:<\|im_start\|>\s*system|<\|system\|>|\[/?INST\]|<</?SYS>>|</?system>|"
            r"^\s*#{2,}\s*(?:system|new instructions)\b|\bEND OF (?:USER )?(?:INPUT|PROMPT)\b)",
            re.MULTILINE,
        ),
    ),
)


def match_rules(text: str) -> list[str]:
    """Names of the rules ``text`` triggers."""
    hits = [name for name, pattern in RULES if pattern.search(text)]
    if INVISIBLE.search(text):
        hits.append("invisible_characters")
    return hits
