"""A deterministic synthetic knowledge base: N statements as NDJSON the loader takes.

Groups have skewed sizes, as real ones do: 50 generated treaties (the largest linked to
about a tenth of all statements, the smallest to a few hundred at 1M), 2,000 generated
people speaking with Zipf frequencies, five countries; beside them the seed data's
treaties and speakers, as before.
"""

import itertools
import json
import random
from pathlib import Path

SPEAKERS = [
    "sergei-lavrov", "sergei-ryabkov", "stephen-biegun", "christopher-ford", "fu-cong",
    "marshall-billingslea", "vladimir-putin", "wendy-sherman", "mike-pompeo",
]  # fmt: skip
TREATIES = [["new-start"], ["inf"], ["open-skies"], ["new-start", "inf"], []]
WORDS = (
    "treaty extension warhead freeze verification inspection launcher missile deployment "
    "limit notification data exchange portal monitoring moratorium Kaliningrad overflight "
    "withdrawal suspension compliance violation review conference quota bomber ICBM SLBM "
    "arsenal reduction strategic stability transparency proposal negotiation"
).split()


def _vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    """Topic words among 5,000 pseudo-words with Zipf frequencies, as in real text: a
    search for "verification" then matches about 1% of statements, not half of them."""
    syllables = "ka lo mi ne ta ru so vi de pa ge lu ro ti ma na be do".split()
    filler = sorted({"".join(rng.choices(syllables, k=rng.randrange(2, 5))) for _ in range(6000)})
    words = filler[:5000]
    rng.shuffle(words)
    for rank, word in zip(range(40, 40 + 37 * 60, 60), WORDS, strict=False):
        words.insert(rank, word)  # topic words spread from common to rare
    weights = [1 / (rank + 1) for rank in range(len(words))]
    cumulative, total = [], 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)
    return words, cumulative


GENERATED_TREATIES = 50
PEOPLE = 2000
COUNTRIES = ["RU", "US", "CN", "GB", "FR"]
SOURCE = "jpnd-2021-new-start-extension"
# Treaty k (1-based) is linked with weight k^-1.48 by a quarter of the statements: at 1M
# statements the largest has ~10 % of them and the smallest ~300.
TREATY_SHARE, TREATY_SKEW, PERSON_SKEW = 0.25, 1.48, 1.1


def treaty_slug(k: int) -> str:
    return f"gen-treaty-{k:02d}"


def person_slug(k: int) -> str:
    return f"gen-person-{k:04d}"


def _cumulative(count: int, skew: float) -> list[float]:
    return list(itertools.accumulate(1 / (k**skew) for k in range(1, count + 1)))


def groups() -> list[dict[str, object]]:
    """The generated treaties and people, as bundle lines."""
    treaties = [
        {"slug": treaty_slug(k), "name": f"Generated Treaty {k}", "short_name": f"GT{k}",
         "official_name": f"Generated Treaty number {k}", "kind": "bilateral",
         "summary": "A synthetic treaty for the benchmark.", "sources": [SOURCE]}
        for k in range(1, GENERATED_TREATIES + 1)
    ]  # fmt: skip
    people = [
        {"slug": person_slug(k), "name": f"Generated Person {k}",
         "country": COUNTRIES[k % len(COUNTRIES)], "sources": [SOURCE]}
        for k in range(1, PEOPLE + 1)
    ]  # fmt: skip
    return [{"resource": "treaties", "record": t} for t in treaties] + [
        {"resource": "people", "record": p} for p in people
    ]


TREATY_WEIGHTS = _cumulative(GENERATED_TREATIES, TREATY_SKEW)
PERSON_WEIGHTS = _cumulative(PEOPLE, PERSON_SKEW)


def _skewed(i: int, rng: random.Random) -> dict[str, object]:
    """Half the statements: a generated speaker (Zipf) and, for half of those, a generated
    treaty (skewed), besides any seed treaty."""
    if i % 2:
        return {}
    k = rng.choices(range(1, PEOPLE + 1), cum_weights=PERSON_WEIGHTS)[0]
    found: dict[str, object] = {"speaker": person_slug(k), "country": COUNTRIES[k % 5]}
    if i % 4 == 0:
        t = rng.choices(range(1, GENERATED_TREATIES + 1), cum_weights=TREATY_WEIGHTS)[0]
        found["treaty"] = treaty_slug(t)
    return found


def statement(
    i: int, rng: random.Random, vocabulary: tuple[list[str], list[float]]
) -> dict[str, object]:
    year = 1990 + i % 36
    month = 1 + rng.randrange(12)
    day = 1 + rng.randrange(28)
    said_on = [f"{year}-{month:02d}-{day:02d}", f"{year}-{month:02d}", f"{year}"][i % 10 // 8]
    skewed = _skewed(i, rng)
    treaties = list(TREATIES[i % len(TREATIES)])
    if "treaty" in skewed:
        treaties.append(str(skewed.pop("treaty")))
    return {
        "id": f"gen-{i:07d}",
        "text": " ".join(
            rng.choices(vocabulary[0], cum_weights=vocabulary[1], k=rng.randrange(12, 40))
        ).capitalize()
        + ".",
        "speaker": SPEAKERS[i % len(SPEAKERS)],
        "said_on": said_on,
        "treaties": treaties,
        "sources": [SOURCE],
        **skewed,
    }


def generate(path: Path, count: int, seed: int = 2020) -> Path:
    rng = random.Random(seed)
    vocabulary = _vocabulary(rng)
    with path.open("w", encoding="utf-8") as out:
        for line in groups():
            out.write(json.dumps(line) + "\n")
        for i in range(count):
            record = statement(i, rng, vocabulary)
            out.write(json.dumps({"resource": "statements", "record": record}) + "\n")
    return path
