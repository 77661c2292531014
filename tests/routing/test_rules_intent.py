from portico.pipeline import Caller
from portico.routing.intent import IntentClassifier, IntentRouter
from portico.routing.rules import RulesRouter
from portico.routing.settings import IntentRoute, RulesRoute

from .conftest import WordEmbedder, ctx_for

INTENTS = [
    {"name": "billing", "model": "cheap", "examples": ["refund my invoice", "my invoice is wrong", "billing charge"]},
    {"name": "code", "model": "coder", "examples": ["fix this python bug", "python stack trace error"]},
]


def _rules() -> RulesRoute:
    return RulesRoute.model_validate(
        {
            "name": "auto",
            "policy": "rules",
            "default": "small",
            "intents": INTENTS,
            "rules": [
                {"when": {"has_tools": True}, "model": "tooler"},
                {"when": {"response_format": "json_object"}, "model": "jsoner"},
                {"when": {"metadata": {"tier": "gold"}}, "model": "gold"},
                {"when": {"min_prompt_tokens": 50}, "model": "long"},
                {"when": {"regex": r"(?i)\bSQL\b"}, "model": "sql"},
                {"when": {"intent": "code"}, "model": "coder"},
            ],
        }
    )


def test_first_matching_rule_wins_and_explains_itself(embedder: WordEmbedder) -> None:
    router = RulesRouter(_rules(), embedder)
    tool = {"type": "function", "function": {"name": "f", "parameters": {}}}
    r = router.decide(ctx_for("hello", tools=[tool], response_format={"type": "json_object"}))
    assert r.model == "tooler" and "tools=True" in r.reason
    assert router.decide(ctx_for("hello", response_format={"type": "json_object"})).model == "jsoner"
    assert router.decide(ctx_for("word " * 60)).model == "long"
    assert router.decide(ctx_for("write SQL for me")).model == "sql"
    assert router.decide(ctx_for("python bug in my stack trace")).model == "coder"
    fallback = router.decide(ctx_for("hello there"))
    assert fallback.model == "small" and "no match" in fallback.reason


def test_metadata_rule_reads_the_caller(embedder: WordEmbedder) -> None:
    router = RulesRouter(_rules(), embedder)
    ctx = ctx_for("hello")
    ctx.caller = Caller(key_id="k", metadata={"tier": "gold"})
    assert router.decide(ctx).model == "gold"


def test_intent_router_picks_nearest_examples_and_falls_back(embedder: WordEmbedder) -> None:
    cfg = IntentRoute.model_validate(
        {"name": "auto", "policy": "intent", "intents": INTENTS, "fallback": "general", "threshold": 0.4}
    )
    router = IntentRouter(cfg, embedder)
    r = router.decide(ctx_for("please refund this invoice"))
    assert r.model == "cheap" and r.reason.startswith("intent billing")
    oos = router.decide(ctx_for("what is the weather tomorrow"))
    assert oos.model == "general" and "out-of-scope" in oos.reason


def test_classifier_reports_candidate_even_when_out_of_scope(embedder: WordEmbedder) -> None:
    clf = IntentClassifier(embedder, [("a b c", "x"), ("d e f", "y")], threshold=0.99, k=1)
    (m,) = clf.classify(["a b"])
    assert m.intent is None and m.candidate == "x" and 0 < m.similarity < 0.99
