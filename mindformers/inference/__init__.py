"""MindSpore Lite inference (upstream's `mindformers.inference`): InferConfig, InferTask and the MindIR
pipeline behind `pipeline(..., backend="mslite")`. Running it needs the `mindspore-lite` wheel of the installed
MindSpore version and this Python; without it every entry point says so in one line. The post-processing
sampler runs on MindSpore itself."""
from .infer_config import InferConfig
from .infer_task import InferTask, get_mslite_pipeline

__all__ = ['InferConfig', 'InferTask']
