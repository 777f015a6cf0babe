"""avn_kb/util/slot_state.py: the slotted model classes pickle as their field values and come back equal."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from avn_kb.model.knowledge import Acceptance, Action, Citation
from avn_kb.model.source import Source
from avn_kb.util.slot_state import quick_state


@pytest.mark.parametrize("cls", [Source, Citation, Acceptance, Action])
def test_each_slotted_model_class_has_the_quick_state(cls: type) -> None:
    assert "__slots__" in vars(cls) and "__dict__" not in cls.__slots__
    assert cls.__setstate__.__module__ == "avn_kb.util.slot_state"


def test_the_slotted_objects_of_a_loaded_knowledge_base_pickle_back_equal() -> None:
    from pathlib import Path

    from avn_kb.load.knowledge import load_knowledge

    kb = load_knowledge(Path(__file__).parent.parent / "knowledge", "knowledge").kb
    # (not the whole recommendations: a condition an earlier test evaluated keeps its compiled
    # closure, which pickle cannot write and the cache then simply does not keep)
    slotted = [(rec.where, rec.action, rec.citations, rec.acceptances) for rec in kb.recommendations]
    assert any(citations for _, _, citations, _ in slotted) and any(accepted for *_, accepted in slotted)
    assert pickle.loads(pickle.dumps(slotted, pickle.HIGHEST_PROTOCOL)) == slotted


@quick_state
@dataclasses.dataclass(frozen=True, slots=True)
class Pair:
    a: int
    b: int = 0


def test_a_state_of_another_length_is_refused() -> None:
    assert pickle.loads(pickle.dumps(Pair(1, 2))) == Pair(1, 2)
    pair = Pair.__new__(Pair)
    with pytest.raises(ValueError):
        pair.__setstate__((1,))
    with pytest.raises(dataclasses.FrozenInstanceError):
        Pair(1).a = 3  # type: ignore[misc]
