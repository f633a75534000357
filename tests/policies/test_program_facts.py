"""The pack's copies of the program's label keys, component names and GPU facts, held to the
program's constants (issue 24 item 4): the pack cannot import ``components``, so each fact it
needs is copied once into ``aiinfra_policies/constants.py``, and this test keeps every copy true."""

from __future__ import annotations

from aiinfra_policies import constants
from components.core.labels import POOL_LABEL, standard_labels
from components.specs import model_runner, storage
from components.specs.node_pool import GPU_PRESENT_LABEL, GPU_RESOURCE, GPU_TAINT_KEY, GPU_TOLERATION


def test_the_component_names_the_rules_select_on_are_the_ones_the_fleets_set() -> None:
    assert constants.MODEL_SERVER_COMPONENT == model_runner.MODEL_SERVER
    assert constants.WEIGHT_STAGER_COMPONENT == model_runner.WEIGHT_STAGER
    labels = standard_labels(env="dev", team="t", app="a", component=model_runner.MODEL_SERVER)
    assert labels[constants.COMPONENT_LABEL] == constants.MODEL_SERVER_COMPONENT
    assert set(constants.RECOMMENDED_LABELS) <= set(labels)


def test_the_gpu_facts_are_the_ones_the_pools_and_pods_carry() -> None:
    assert constants.GPU_TAINT_KEY == GPU_TAINT_KEY == GPU_TOLERATION["key"]
    assert GPU_RESOURCE in constants.GPU_RESOURCES
    assert constants.GPU_NODE_LABELS == (GPU_PRESENT_LABEL, POOL_LABEL)


def test_the_weights_data_label_is_the_one_storage_sets() -> None:
    assert (constants.DATA_LABEL, constants.MODEL_WEIGHTS) == (storage.DATA_LABEL, storage.MODEL_WEIGHTS)
