"""BloomRewardModel: BLOOM's trunk with a scalar value head, trained on preference pairs (RLHF reward model)."""
from mindspore import nn, ops

from mindformers.core.loss.loss import CompareLoss
from mindformers.models.base_model import BaseModel
from mindformers.models.bloom.bloom import BloomModel
from mindformers.models.bloom.bloom_config import BloomConfig
from mindformers.modules.layers import Linear
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['BloomRewardModel', 'VHead']


class VHead(nn.Cell):
    """hidden states (..., hidden) -> one value per position (..., 1): `vhead.weight` (1, hidden), no bias."""

    def __init__(self, config):
        super().__init__()
        self.vhead = Linear(config.hidden_size, 1, has_bias=False, param_init_type=config.param_init_type,
                            compute_dtype=config.compute_dtype)

    def construct(self, output_states):
        return self.vhead(output_states)


@MindFormerRegister.register(MindFormerModuleType.MODELS)
class BloomRewardModel(BaseModel):
    """construct(input_ids, position_id=None, attention_mask=None, loss_mask=None, end_ind=None): input_ids
    (2B, seq_length), the B chosen responses then their B rejected ones (RewardModelDataset's layout); the value of
    every position through CompareLoss: the mean over pairs of -log sigmoid(chosen - rejected) over the positions
    `loss_mask` (B, seq_length) marks. Training returns the loss; evaluation (loss, chosen score, rejected score),
    the scores at the pair's last token (end_ind (2B,)). The trunk is BloomLMHeadModel's (`model.*`), so a
    pretrained BLOOM checkpoint loads into it (the value head starts fresh)."""
    config_class = BloomConfig
    checkpoint_optional_keys = ('vhead.',)

    def __init__(self, config=None):
        config = config if config is not None else BloomConfig()
        super().__init__(config)
        self.model = BloomModel(config)
        self.vhead = VHead(config)
        self.loss = CompareLoss(config=getattr(config, 'parallel_config', None))
        self.seq_length = config.seq_length
        self.load_checkpoint(config)

    def rewards(self, input_ids):
        """The value of every position, (batch, seq_length) float32."""
        hidden = self.model(input_ids)
        return ops.cast(ops.squeeze(self.vhead(hidden), -1), self.vhead.vhead.weight.dtype)

    def construct(self, input_ids, position_id=None, attention_mask=None, loss_mask=None, end_ind=None):
        rewards = self.rewards(input_ids)
        loss, chosen_end_scores, reject_end_scores = self.loss(rewards, loss_mask, end_ind)
        if self.training:
            return loss
        return loss, chosen_end_scores, reject_end_scores
