"""Training building blocks: LR schedules, optimizers, losses, callbacks, metrics, context, parallel config."""
from .lr import *  # noqa: F401,F403  (registers the LR schedules)
from .optim import *  # noqa: F401,F403  (registers the optimizers)
from .loss import *  # noqa: F401,F403  (registers the losses)
from .callback import *  # noqa: F401,F403
from .metric import *  # noqa: F401,F403
from .context import build_context, init_context, build_profile_cb
from .clip_grad import ClipGradNorm
from .parallel_config import (TransformerOpParallelConfig, TransformerRecomputeConfig, MoEConfig,
                              build_parallel_config)
