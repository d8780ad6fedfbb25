"""MFTrainOneStepCell: forward, backward, gradient accumulation, loss scaling, clipping, update."""
import mindspore as ms
from mindspore import nn, ops, Parameter, Tensor
from mindspore.context import ParallelMode
from mindspore.nn.learning_rate_schedule import LearningRateSchedule

from mindformers.tools.errors import ConfigError, NotAvailableError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType


class DynamicLossScale(nn.Cell):
    """Loss scale that halves (÷scale_factor) on overflow and grows after `scale_window` clean steps.

    Plain arithmetic on Parameters, so it runs on every device (MindSpore's loss-scale cells rely
    on an NPU status op).
    """

    def __init__(self, loss_scale_value=2 ** 16, scale_factor=2, scale_window=1000):
        super().__init__()
        self.loss_scale_value = float(loss_scale_value)
        self.scale_factor = float(scale_factor)
        self.scale_window = int(scale_window)
        self.clean_steps = Parameter(Tensor(0, ms.int32), name='loss_scale_clean_steps', requires_grad=False)

    def construct(self, scale, overflow):
        if overflow:
            ops.assign(scale, ops.maximum(scale / self.scale_factor, 1.0))
            ops.assign(self.clean_steps, 0)
        else:
            ops.assign_add(self.clean_steps, 1)
            if self.clean_steps >= self.scale_window:
                ops.assign(scale, scale * self.scale_factor)
                ops.assign(self.clean_steps, 0)
        return overflow


MindFormerRegister.register_cls(DynamicLossScale, MindFormerModuleType.WRAPPER, alias='DynamicLossScaleUpdateCell')
MindFormerRegister.register_cls(DynamicLossScale, MindFormerModuleType.WRAPPER)


class _ScaledLoss(nn.Cell):
    """network(*inputs) * scale: differentiating this gives loss-scaled gradients in one pass."""

    def __init__(self, network):
        super().__init__(auto_prefix=False)
        self.network = network

    def construct(self, scale, *inputs):
        loss = self.network(*inputs)
        return loss * ops.cast(scale, loss.dtype)


class _ScaledTokenLoss(nn.Cell):
    """(sum of token losses * scale, token count) of a network in token-weighted mode; only the first output is
    differentiated (value_and_grad with has_aux)."""

    def __init__(self, network):
        super().__init__(auto_prefix=False)
        self.network = network

    def construct(self, scale, *inputs):
        loss_sum, tokens = self.network(*inputs)
        return loss_sum * ops.cast(scale, loss_sum.dtype), ops.cast(tokens, ms.float32)


class FixedLossScaleUpdateCell:
    """A loss scale that never changes (upstream's `scale_sense: {type: FixedLossScaleUpdateCell,
    loss_scale_value: 1024}`): the loss is multiplied by it before the backward pass and the gradients divided by
    it after, which keeps float16 gradients away from underflow; in float32 it changes nothing."""

    def __init__(self, loss_scale_value=1.0):
        if not isinstance(loss_scale_value, (int, float)) or isinstance(loss_scale_value, bool) or \
                loss_scale_value <= 0:
            raise ConfigError(f"FixedLossScaleUpdateCell: loss_scale_value must be a positive number, got "
                              f"{loss_scale_value!r}")
        self.loss_scale_value = float(loss_scale_value)


MindFormerRegister.register_cls(FixedLossScaleUpdateCell, MindFormerModuleType.WRAPPER)


@MindFormerRegister.register(MindFormerModuleType.WRAPPER)
class MFTrainOneStepCell(nn.Cell):
    """One optimizer step. Returns (loss, overflow, loss_scale, learning_rate, global_norm).

    With `gradient_accumulation_steps = n > 1` the incoming batch holds n micro-batches; their
    gradients are summed in the graph before a single update, so this works on one device too. Models
    whose loss is a masked token average (every causal LM) are weighted by real tokens: the step's loss
    and gradients are those of the whole batch, sum(token losses) / sum(tokens that count), whatever
    the padding and `-100` labels of each micro-batch. Other models average the micro-batch losses.
    """

    def __init__(self, network, optimizer, use_clip_grad=False, max_grad_norm=1.0, scale_sense=1.0,
                 gradient_accumulation_steps=1, parallel_config=None, **kwargs):
        super().__init__(auto_prefix=False)
        self.network = network
        self.optimizer = optimizer
        self.weights = optimizer.parameters
        self.use_clip_grad = bool(use_clip_grad)
        self.max_grad_norm = float(max_grad_norm)
        self.accumulation = int(gradient_accumulation_steps or 1)
        if self.accumulation < 1:
            raise ConfigError(f"gradient_accumulation_steps must be >= 1, got {gradient_accumulation_steps}")
        if isinstance(scale_sense, (int, float)):
            scale_sense = FixedLossScaleUpdateCell(scale_sense)
        self.dynamic_scale = scale_sense if isinstance(scale_sense, DynamicLossScale) else None
        self.scale_sense = Parameter(Tensor(scale_sense.loss_scale_value, ms.float32), name='scale_sense',
                                     requires_grad=False)
        enable = getattr(network, 'enable_token_weighted_loss', None)
        self.token_weighted = self.accumulation > 1 and callable(enable) and bool(enable())
        if self.token_weighted:
            self.scaled_loss = _ScaledTokenLoss(network)
            self.value_and_grad = ms.value_and_grad(self.scaled_loss, grad_position=None, weights=self.weights,
                                                    has_aux=True)
        else:
            self.scaled_loss = _ScaledLoss(network)
            self.value_and_grad = ms.value_and_grad(self.scaled_loss, grad_position=None, weights=self.weights)
        schedule = optimizer.learning_rate
        if isinstance(schedule, (tuple, list, nn.CellList)) and len(schedule) and \
                isinstance(schedule[0], LearningRateSchedule):
            # per-group schedules (layer-wise decay: each a ScaledLearningRate of one schedule): log the base one
            schedule = getattr(schedule[0], 'schedule', schedule[0])
        self.lr_schedule = schedule if isinstance(schedule, LearningRateSchedule) else None
        self.constant_lr = None if self.lr_schedule is not None else _first_lr(optimizer)
        parallel_mode = ms.get_auto_parallel_context('parallel_mode')
        self.reducer = None
        if parallel_mode in (ParallelMode.DATA_PARALLEL, ParallelMode.HYBRID_PARALLEL):
            from mindspore.communication import get_group_size  # pylint: disable=import-outside-toplevel
            mean = ms.get_auto_parallel_context('gradients_mean')
            self.reducer = nn.DistributedGradReducer(self.weights, mean, get_group_size())
            self.allreduce = ops.AllReduce()
            self.degree = float(get_group_size())

    def _loss_and_grads(self, inputs):
        # one forward: value_and_grad of (loss * scale), then unscale the value
        scaled_loss, grads = self.value_and_grad(self.scale_sense, *inputs)
        return scaled_loss / ops.cast(self.scale_sense, scaled_loss.dtype), grads

    def _accumulate(self, inputs):
        """-> (loss, gradients * scale_sense) of n micro-batches: token-weighted, or the mean of their losses."""
        if inputs[0].shape[0] % self.accumulation:  # static shape: checked once, at compile time in GRAPH_MODE
            raise ValueError(f"MFTrainOneStepCell: batch size {inputs[0].shape[0]} is not divisible by "
                             f"gradient_accumulation_steps {self.accumulation}; make the batch a multiple of it")
        micro = inputs[0].shape[0] // self.accumulation
        total, grads = self.value_and_grad(self.scale_sense, *tuple(x[0:micro] for x in inputs))
        for i in range(1, self.accumulation):
            part_total, part_grads = self.value_and_grad(self.scale_sense,
                                                         *tuple(x[i * micro:(i + 1) * micro] for x in inputs))
            grads = tuple(g + h for g, h in zip(grads, part_grads))
            if self.token_weighted:
                total = (total[0] + part_total[0], total[1] + part_total[1])
            else:
                total = total + part_total
        if self.token_weighted:
            tokens = total[1] + 1e-5  # the same epsilon as CrossEntropyLoss: an all-ignored batch gives 0
            loss = total[0] / ops.cast(self.scale_sense, total[0].dtype) / tokens
            return loss, tuple(g / ops.cast(tokens, g.dtype) for g in grads)
        loss = total / ops.cast(self.scale_sense, total.dtype) / self.accumulation
        return loss, tuple(g / self.accumulation for g in grads)

    def construct(self, *inputs):
        if self.accumulation == 1:
            loss, grads = self._loss_and_grads(inputs)
        else:
            loss, grads = self._accumulate(inputs)
        factor = 1.0 / self.scale_sense
        grads = tuple(g * ops.cast(factor, g.dtype) for g in grads)
        if self.reducer is not None:
            grads = self.reducer(grads)
            loss = self.allreduce(loss) / self.degree
        global_norm = ops.sqrt(ops.addn([ops.reduce_sum(ops.square(ops.cast(g, ms.float32))) for g in grads]))
        # a non-finite loss or gradient skips the update (weights, optimizer moments and step stay as they were)
        overflow = ops.logical_not(ops.logical_and(ops.isfinite(global_norm), ops.isfinite(loss)))
        if self.dynamic_scale is not None:
            overflow = self.dynamic_scale(self.scale_sense, overflow)
        if self.use_clip_grad:
            clip = ops.minimum(self.max_grad_norm / (global_norm + 1e-6), 1.0)
            grads = tuple(g * ops.cast(clip, g.dtype) for g in grads)
        learning_rate = self._current_lr()
        if not overflow:
            self.optimizer(grads)
        return loss, overflow, self.scale_sense, learning_rate, global_norm

    def _current_lr(self):
        if self.lr_schedule is not None:
            return self.lr_schedule(self.optimizer.global_step)
        return self.constant_lr


def _first_lr(optimizer):
    learning_rate = optimizer.learning_rate
    if isinstance(learning_rate, (tuple, list, nn.CellList, ms.ParameterTuple)):
        learning_rate = learning_rate[0]
    if isinstance(learning_rate, Parameter) and learning_rate.ndim == 0:
        return learning_rate
    if isinstance(learning_rate, LearningRateSchedule):
        raise ConfigError("group-wise learning-rate schedules are not supported by MFTrainOneStepCell yet")
    return Tensor(float(learning_rate.asnumpy().reshape(-1)[0]), ms.float32)


MindFormerRegister.register_cls(MFTrainOneStepCell, MindFormerModuleType.WRAPPER, alias='mf_wrapper')


@MindFormerRegister.register(MindFormerModuleType.WRAPPER)
class MFPipelineWithLossScaleCell(MFTrainOneStepCell):
    """Upstream's pipeline-parallel training cell. Each batch holds `micro_batch_num` micro-batches whose gradients
    are accumulated before one update, with loss scaling and optional global-norm clipping; returns what
    MFTrainOneStepCell returns. Pipeline stages > 1 need semi-auto parallel compilation, which MindSpore does not
    run on CPU: there it stops in one line; with one stage (data parallel or one device) it runs here."""

    def __init__(self, network, optimizer, use_clip_grad=True, max_grad_norm=1.0, scale_sense=1.0, micro_batch_num=1,
                 **kwargs):
        if not isinstance(micro_batch_num, int) or isinstance(micro_batch_num, bool) or micro_batch_num < 1:
            raise ConfigError(f"MFPipelineWithLossScaleCell: micro_batch_num must be a positive integer, got "
                              f"{micro_batch_num!r}")
        parallel_config = kwargs.get('parallel_config')
        stages = max(int(getattr(parallel_config, 'pipeline_stage', 1) or 1),
                     int(ms.get_auto_parallel_context('pipeline_stages') or 1))
        if stages > 1 and ms.get_context('device_target') == 'CPU':
            raise NotAvailableError(f"MFPipelineWithLossScaleCell: pipeline_stage {stages} needs semi-auto parallel "
                                    f"compilation, which MindSpore does not run on CPU; use pipeline_stage 1 "
                                    f"(micro batches are then accumulated on each device)")
        kwargs.pop('gradient_accumulation_steps', None)
        super().__init__(network, optimizer, use_clip_grad=use_clip_grad, max_grad_norm=max_grad_norm,
                         scale_sense=scale_sense, gradient_accumulation_steps=micro_batch_num, **kwargs)
        self.micro_size = micro_batch_num
