"""Fixtures shared by the unit tests: run a test in one MindSpore mode and restore the previous one."""
import mindspore as ms
import pytest


def _in_mode(mode):
    previous = ms.get_context("mode")
    ms.set_context(mode=mode)
    yield
    ms.set_context(mode=previous)


@pytest.fixture(name="graph_mode")
def fixture_graph_mode():
    yield from _in_mode(ms.GRAPH_MODE)


@pytest.fixture(name="pynative")
def fixture_pynative():
    yield from _in_mode(ms.PYNATIVE_MODE)
