"""Critical-path length against PSPLIB's MPM-Time for every j30/j60/j90/j120 instance (2,040 in all).

The archives are read in place from ../shared/data/psplib; SOURCE.txt there says where they come from.
"""

from __future__ import annotations

import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from agents.dependency import critical_path_length

PSPLIB = Path(__file__).resolve().parents[2] / "shared" / "data" / "psplib"
SETS = {"j30": 480, "j60": 480, "j90": 480, "j120": 600}


@dataclass
class Instance:
    name: str
    mpm_time: int
    durations: dict[str, float]
    edges: list[tuple[str, str]]


def parse_sm(name: str, text: str) -> Instance:
    """The parts of a PSPLIB single-mode .sm file the oracle needs."""
    lines = text.splitlines()
    mpm_time = None
    edges: list[tuple[str, str]] = []
    durations: dict[str, float] = {}
    section = ""
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("PROJECT INFORMATION"):
            mpm_time = int(lines[index + 2].split()[-1])
        elif stripped.startswith("PRECEDENCE RELATIONS"):
            section = "precedence"
        elif stripped.startswith("REQUESTS/DURATIONS"):
            section = "durations"
        elif stripped.startswith("RESOURCEAVAILABILITIES"):
            section = ""
        elif section and stripped and stripped[0].isdigit():
            fields = stripped.split()
            if section == "precedence":
                count = int(fields[2])
                edges.extend((fields[0], succ) for succ in fields[3 : 3 + count])
            else:
                durations[fields[0]] = float(fields[2])
    assert mpm_time is not None, f"{name}: no MPM-Time"
    return Instance(name, mpm_time, durations, edges)


def load_set(set_name: str) -> list[Instance]:
    archive = PSPLIB / f"{set_name}.tar.gz"
    instances = []
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            if member.isfile() and member.name.endswith(".sm"):
                handle = tar.extractfile(member)
                assert handle is not None
                instances.append(parse_sm(member.name, handle.read().decode("ascii", errors="replace")))
    return instances


pytestmark = pytest.mark.skipif(not PSPLIB.is_dir(), reason=f"PSPLIB data not found at {PSPLIB}")


@pytest.mark.parametrize("set_name", sorted(SETS))
def test_critical_path_matches_mpm_time(set_name: str) -> None:
    instances = load_set(set_name)
    assert len(instances) == SETS[set_name]
    wrong = []
    for inst in instances:
        got = critical_path_length(inst.durations, inst.edges)
        if got != inst.mpm_time:
            wrong.append(f"{inst.name}: got {got}, MPM-Time {inst.mpm_time}")
    assert not wrong, f"{len(wrong)} of {len(instances)} wrong: {wrong[:5]}"


def test_parser_reads_a_known_instance() -> None:
    sample = load_set("j30")[0]
    assert len(sample.durations) == 32
    assert sample.durations["1"] == 0 and sample.durations["32"] == 0
    assert all(a in sample.durations and b in sample.durations for a, b in sample.edges)
