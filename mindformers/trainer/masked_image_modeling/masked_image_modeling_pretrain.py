"""MaskedImageModelingTrainer: the `masked_image_modeling` task (MAE pre-training; predict reconstructs images)."""
import os

from PIL import Image

from mindformers.tools.checkpoint import write_error
from mindformers.tools.errors import NotAvailableError
from mindformers.tools.logger import logger
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType
from mindformers.tools.utils import get_output_root_path, get_real_rank
from mindformers.trainer.base_trainer import BaseTrainer
from mindformers.trainer.image_classification.image_classification import check_image_shape, image_processor_of, \
    read_image_inputs


@MindFormerRegister.register(MindFormerModuleType.TRAINER)
class MaskedImageModelingTrainer(BaseTrainer):
    """Trainer for ViTMAEForPreTraining: batches of `image, mask, ids_restore, unmask_index` (MIMDataset)."""
    task_name = 'masked_image_modeling'

    def __init__(self, model_name=None):
        super().__init__(self.task_name, model_name)

    def evaluate(self, config=None, network=None, dataset=None, **kwargs):
        raise NotAvailableError("masked_image_modeling has no evaluation (as upstream): the training loss is the "
                                "masked-patch error; fine-tune the encoder with image_classification to measure it")

    @staticmethod
    def _check_record_length(dataset, network, section):
        check_image_shape(dataset, network, section)

    def predict(self, config=None, input_data=None, network=None, image_processor=None, batch_size=None,
                **kwargs):
        """Reconstruct images (a file, a folder, a .txt of paths, or a list): each is masked at random (seed 0)
        and rebuilt; `<output_dir>/mim_reconstruction/<name>_{masked,reconstructed}.png` are written and the list of
        `{'info', 'loss', 'masked', 'reconstructed'}` goes to save_file (masked_image_modeling_result.txt)."""
        from mindformers.pipeline import pipeline  # pylint: disable=import-outside-toplevel
        images = read_image_inputs(input_data if input_data is not None else config.input_data)
        if image_processor is None:
            image_processor = image_processor_of(config)
        if network is None:
            network = self.create_network(config)
        if config.load_checkpoint:
            self.load_weights(config, network)
        network.set_train(False)
        rebuild = pipeline('masked_image_modeling', model=network, image_processor=image_processor)
        results = rebuild(images, batch_size=1, seed=int(kwargs.get('seed') or 0))
        folder = os.path.join(get_output_root_path(), 'mim_reconstruction')
        summary = []
        for number, result in enumerate(results):
            name = os.path.splitext(os.path.basename(result['info']))[0] if isinstance(result['info'], str) \
                else str(number)
            paths = {}
            if get_real_rank() == 0:
                os.makedirs(folder, exist_ok=True)
                for kind, key in (('masked', 'masked'), ('reconstructed', 'data')):
                    paths[kind] = os.path.join(folder, f'{name}_{kind}.png')
                    try:
                        Image.fromarray(result[key]).save(paths[kind])
                    except OSError as err:
                        raise write_error('reconstructed image', paths[kind], err) from None
            summary.append({'info': result['info'], 'loss': result['loss'], **paths})
        logger.info("reconstructions of %d images are in %s", len(results), folder)
        self.save_predict_results(config, summary)
        return results


MindFormerRegister.register_cls(MaskedImageModelingTrainer, MindFormerModuleType.TRAINER,
                                alias='masked_image_modeling')
