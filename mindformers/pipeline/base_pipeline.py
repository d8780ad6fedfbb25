"""BasePipeline: inputs -> preprocess -> forward -> postprocess, with lists batched by `batch_size`."""
from mindformers.tools.errors import ConfigError
from mindformers.tools.logger import logger


class BasePipeline:
    """Subclasses implement `_sanitize_parameters`, `preprocess`, `forward` and `postprocess`.

    Keyword arguments given at construction are defaults; those given at call time win.
    """

    def __init__(self, model, tokenizer=None, batch_size=None, **kwargs):
        self.network = model
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self._preprocess_params, self._forward_params, self._postprocess_params = self._sanitize_parameters(**kwargs)
        self.call_count = 0

    def _sanitize_parameters(self, **kwargs):
        raise NotImplementedError

    def preprocess(self, inputs, **preprocess_params):
        raise NotImplementedError

    def forward(self, model_inputs, **forward_params):
        raise NotImplementedError

    def postprocess(self, model_outputs, **postprocess_params):
        raise NotImplementedError

    def __call__(self, inputs=None, batch_size=None, **kwargs):
        if inputs is None:
            raise ConfigError(f"{type(self).__name__}: give the inputs to predict on")
        self.call_count += 1
        if self.call_count == 20:
            logger.info("%s has been called 20 times one by one; pass a list of inputs with batch_size to batch "
                        "them", type(self).__name__)
        pre, fwd, post = self._sanitize_parameters(**kwargs)
        pre = {**self._preprocess_params, **pre}
        fwd = {**self._forward_params, **fwd}
        post = {**self._postprocess_params, **post}
        batch_size = batch_size or self.batch_size
        if isinstance(inputs, (list, tuple)):
            inputs = list(inputs)
            batch_size = batch_size or 1
            if len(inputs) % batch_size:
                raise ConfigError(f"{type(self).__name__}: {len(inputs)} inputs are not a multiple of batch_size "
                                  f"{batch_size}; give a batch_size that divides the number of inputs")
            chunks = [inputs[i:i + batch_size] for i in range(0, len(inputs), batch_size)]
        else:
            chunks = [inputs]
        outputs = []
        for chunk in chunks:
            outputs.extend(self.postprocess(self.forward(self.preprocess(chunk, **pre), **fwd), **post))
        return outputs
