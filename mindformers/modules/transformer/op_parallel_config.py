"""OpParallelConfig: the layer-level data/model parallel sizes (upstream's module path; defined with the other
parallel configs in mindformers.core.parallel_config)."""
from mindformers.core.parallel_config import (OpParallelConfig, MoEParallelConfig, default_dpmp_config,
                                              default_moeparallel_config)

__all__ = ['OpParallelConfig']
