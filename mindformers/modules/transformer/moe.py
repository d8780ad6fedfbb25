"""MoEConfig (upstream's module path; defined with the other parallel configs in mindformers.core.parallel_config).
Mixture-of-experts layers themselves (expert_num > 1) are not implemented: the transformer API refuses them."""
from mindformers.core.parallel_config import MoEConfig, default_moe_config

__all__ = ['MoEConfig']
