"""A deterministic synthetic knowledge base: N statements as NDJSON the loader takes."""

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


def statement(
    i: int, rng: random.Random, vocabulary: tuple[list[str], list[float]]
) -> dict[str, object]:
    year = 1990 + i % 36
    month = 1 + rng.randrange(12)
    day = 1 + rng.randrange(28)
    said_on = [f"{year}-{month:02d}-{day:02d}", f"{year}-{month:02d}", f"{year}"][i % 10 // 8]
    return {
        "id": f"gen-{i:07d}",
        "text": " ".join(
            rng.choices(vocabulary[0], cum_weights=vocabulary[1], k=rng.randrange(12, 40))
        ).capitalize()
        + ".",
        "speaker": SPEAKERS[i % len(SPEAKERS)],
        "said_on": said_on,
        "treaties": TREATIES[i % len(TREATIES)],
        "sources": ["jpnd-2021-new-start-extension"],
    }


def generate(path: Path, count: int, seed: int = 2020) -> Path:
    rng = random.Random(seed)
    vocabulary = _vocabulary(rng)
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            record = statement(i, rng, vocabulary)
            out.write(json.dumps({"resource": "statements", "record": record}) + "\n")
    return path
