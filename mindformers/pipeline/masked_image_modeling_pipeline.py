"""MaskedImageModelingPipeline: images -> a random MAE mask -> the model's reconstruction -> images."""
import numpy as np
import mindspore as ms

from mindformers.models.image_processor import BaseImageProcessor
from mindformers.pipeline.base_pipeline import BasePipeline
from mindformers.tools.errors import ConfigError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

__all__ = ['MaskedImageModelingPipeline']


@MindFormerRegister.register(MindFormerModuleType.PIPELINE, alias='masked_image_modeling')
class MaskedImageModelingPipeline(BasePipeline):
    """`pipeline('masked_image_modeling', model=<ViTMAEForPreTraining>, image_processor=...)(images, seed=0)`.

    Each image gives `{'info': its path (or index), 'data': the reconstruction (H, W, C) uint8, 'masked': the input
    with the masked patches blanked (uint8), 'mask': (patches,) 1 where masked, 'loss': the masked-patch loss}`
    (upstream: `{'info', 'data'}`). The reconstruction keeps the visible patches of the input and fills the masked
    ones with the model's prediction, mapped back to pixels (with `norm_pixel_loss` each predicted patch takes the
    mean and spread of the input patch, as the MAE paper's figures do)."""

    def __init__(self, model, image_processor=None, tokenizer=None, **kwargs):
        if not isinstance(image_processor, BaseImageProcessor):
            raise ConfigError("MaskedImageModelingPipeline needs an image processor: pass image_processor="
                              "<ViTMAEImageProcessor(...)>")
        self.image_processor = image_processor
        super().__init__(model, tokenizer, **kwargs)

    def _sanitize_parameters(self, **kwargs):
        forward = {key: kwargs.pop(key) for key in ('seed',) if key in kwargs}
        if kwargs:
            raise ConfigError(f"MaskedImageModelingPipeline: unknown arguments {sorted(kwargs)}; it takes ['seed']")
        return {}, forward, {}

    def preprocess(self, inputs, **preprocess_params):
        items = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        info = [item if isinstance(item, str) else index for index, item in enumerate(items)]
        return {'image': self.image_processor(list(items)), 'info': info}

    def forward(self, model_inputs, seed=0, **forward_params):
        image = model_inputs['image']
        noise = ms.Tensor(np.random.default_rng(seed).random((image.shape[0], self.network.num_patches)),
                          ms.float32)
        loss, predicted, mask = self.network(image, noise=noise)
        return {'image': image.asnumpy(), 'predicted': predicted.asnumpy(), 'mask': mask.asnumpy(),
                'loss': float(loss), 'info': model_inputs['info']}

    def _to_pixels(self, chw):
        mean = np.asarray(self.image_processor.mean, np.float32)[:, None, None]
        std = np.asarray(self.image_processor.std, np.float32)[:, None, None]
        pixels = np.clip((chw * std + mean) * 255.0, 0, 255).round().astype(np.uint8).transpose(1, 2, 0)
        return pixels[..., 0] if pixels.shape[-1] == 1 else pixels

    def _image_of(self, patches, height, width):
        return self.network.unpatchify(ms.Tensor(patches[None]), height, width).asnumpy()[0]

    def postprocess(self, model_outputs, **postprocess_params):
        network = self.network
        images, predicted, masks = model_outputs['image'], model_outputs['predicted'], model_outputs['mask']
        height, width = images.shape[2:]
        results = []
        for index, (image, pred, mask) in enumerate(zip(images, predicted, masks)):
            target = network.patchify(ms.Tensor(image[None])).asnumpy()[0]        # (patches, p*p*c) input
            if network.norm_pixel_loss:
                mean = target.mean(-1, keepdims=True)
                std = np.sqrt(target.var(-1, ddof=1, keepdims=True) + 1e-6)
                pred = pred * std + mean
            keep = mask[:, None] == 0
            rebuilt = np.where(keep, target, pred)
            blanked = np.where(keep, target, np.full_like(target, target.min()))
            results.append({'info': model_outputs['info'][index],
                            'data': self._to_pixels(self._image_of(rebuilt, height, width)),
                            'masked': self._to_pixels(self._image_of(blanked, height, width)),
                            'mask': mask.astype(np.int32), 'loss': model_outputs['loss']})
        return results


MindFormerRegister.register_cls(MaskedImageModelingPipeline, MindFormerModuleType.PIPELINE)
