"""ContrastiveLanguageImagePretrainTrainer: the `contrastive_language_image_pretrain` task (CLIP pre-training on
image-caption pairs; evaluation and prediction belong to zero_shot_image_classification, as upstream)."""
from mindformers.tools.errors import NotAvailableError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType
from mindformers.trainer.base_trainer import BaseTrainer
from mindformers.trainer.image_classification.image_classification import check_image_shape


@MindFormerRegister.register(MindFormerModuleType.TRAINER)
class ContrastiveLanguageImagePretrainTrainer(BaseTrainer):
    """Trainer for CLIPModel: batches of (image, caption ids) (ContrastiveLanguageImagePretrainDataset)."""
    task_name = 'contrastive_language_image_pretrain'

    def __init__(self, model_name=None):
        super().__init__(self.task_name, model_name)

    def evaluate(self, config=None, network=None, dataset=None, **kwargs):
        raise NotAvailableError("contrastive_language_image_pretrain has no evaluation (as upstream); evaluate the "
                                "trained CLIP with --run_mode eval of a zero_shot_image_classification config")

    def predict(self, config=None, input_data=None, network=None, **kwargs):
        raise NotAvailableError("contrastive_language_image_pretrain has no prediction (as upstream); classify "
                                "images with a zero_shot_image_classification config or pipeline")

    @staticmethod
    def _check_record_length(dataset, network, section):
        check_image_shape(dataset, network, section)


MindFormerRegister.register_cls(ContrastiveLanguageImagePretrainTrainer, MindFormerModuleType.TRAINER,
                                alias='contrastive_language_image_pretrain')
