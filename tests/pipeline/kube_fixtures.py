"""Shared by the kube tests: a registry of three containers (one with GPUs)."""

from plato_eas.tasks.registry import Container, Registry

BASE = Container("eas-base", "img:1", cpu=1, gpu=0, memory_gb=2)
TDA = Container("eas-tda", "img:1", cpu=2, gpu=0, memory_gb=4)
GPU = Container("eas-gpu", "img:gpu", cpu=4, gpu=2, memory_gb=16)
REGISTRY = Registry(
    containers=(BASE, TDA, GPU),
    task_types={"execution_chain": "all", "null": "all", "synthesis_psls": "eas-base",
                "transit_search_bls": "eas-tda", "transit_search_tls": "eas-tda",
                "cnn_vetting": "eas-gpu"},
)
