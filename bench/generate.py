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


def statement(i: int, rng: random.Random) -> dict[str, object]:
    year = 1990 + i % 36
    month = 1 + rng.randrange(12)
    day = 1 + rng.randrange(28)
    said_on = [f"{year}-{month:02d}-{day:02d}", f"{year}-{month:02d}", f"{year}"][i % 10 // 8]
    return {
        "id": f"gen-{i:07d}",
        "text": " ".join(rng.choice(WORDS) for _ in range(rng.randrange(12, 40))).capitalize()
        + ".",
        "speaker": SPEAKERS[i % len(SPEAKERS)],
        "said_on": said_on,
        "treaties": TREATIES[i % len(TREATIES)],
        "sources": ["jpnd-2021-new-start-extension"],
    }


def generate(path: Path, count: int, seed: int = 2020) -> Path:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            record = statement(i, rng)
            out.write(json.dumps({"resource": "statements", "record": record}) + "\n")
    return path
