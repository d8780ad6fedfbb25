"""ZeroShotImageClassificationTrainer: the `zero_shot_image_classification` task (CLIP scores each image against
one text prompt per class: Top1 accuracy on a labelled dataset, predict on image files or folders)."""
import math

from mindformers.models.base_tokenizer import PreTrainedTokenizer
from mindformers.models.build_tokenizer import build_tokenizer
from mindformers.models.image_processor import BaseImageProcessor
from mindformers.tools.errors import ConfigError, NotAvailableError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType
from mindformers.trainer.base_trainer import BaseTrainer
from mindformers.trainer.image_classification.image_classification import check_image_shape, image_processor_of, \
    read_image_inputs

# upstream's fallbacks when neither the call nor the dataset names the classes
DEFAULT_LABELS = ['sunflower', 'tree', 'dog', 'cat', 'toy']


@MindFormerRegister.register(MindFormerModuleType.TRAINER)
class ZeroShotImageClassificationTrainer(BaseTrainer):
    """Trainer for CLIPModel on (image, class prompts, label) batches (ZeroShotImageClassificationDataset)."""
    default_metric = 'Accuracy'
    task_name = 'zero_shot_image_classification'
    metric_name = 'Top1 Accuracy'

    def __init__(self, model_name=None):
        super().__init__(self.task_name, model_name)

    def train(self, config=None, network=None, dataset=None, optimizer=None, wrapper=None, callbacks=None,
              **kwargs):
        raise NotAvailableError("zero_shot_image_classification does not train (as upstream); pre-train CLIP with "
                                "a contrastive_language_image_pretrain config")

    @staticmethod
    def _check_record_length(dataset, network, section):
        check_image_shape(dataset, network, section)

    @staticmethod
    def _eval_loader_value(config, key):
        section = (config.eval_dataset or {}).get('data_loader') or {}
        return section.get(key)

    def _candidate_labels(self, config, candidate_labels):
        """The call's labels, else those of the eval data loader (label_names, a labels.py dataset name or
        a loader that carries them), else upstream's defaults."""
        if candidate_labels:
            return list(candidate_labels)
        names = self._eval_loader_value(config, 'label_names')
        if isinstance(names, str):
            from mindformers.dataset.labels import labels  # pylint: disable=import-outside-toplevel
            names = labels.get(names)
        return list(names) if names else list(DEFAULT_LABELS)

    def _tokenizer(self, config, tokenizer):
        if tokenizer is None:
            section = (config.processor or {}).get('tokenizer') or (config.eval_dataset or {}).get('tokenizer')
            if not section:
                raise ConfigError("predict needs a tokenizer: set processor.tokenizer (type: CLIPTokenizer, "
                                  "vocab_file) in the YAML or pass tokenizer= to the Trainer")
            tokenizer = build_tokenizer(section.to_dict() if hasattr(section, 'to_dict') else dict(section))
        if not isinstance(tokenizer, PreTrainedTokenizer):
            raise ConfigError(f"tokenizer must be a tokenizer, got {type(tokenizer).__name__}")
        return tokenizer

    def predict(self, config=None, input_data=None, network=None, image_processor=None, tokenizer=None,
                batch_size=None, candidate_labels=None, hypothesis_template=None, top_k=None, **kwargs):
        """Classify images (a file, a folder, a .txt of paths, or a list) among `candidate_labels` (default: the
        eval dataset's class names) phrased by `hypothesis_template` (default: the eval data loader's, else
        '{}'): one `[{'score', 'label'}, ...]` list per image, best first, the first `top_k` (default: the
        config's top_k, else 1), written to `save_file` (default zero_shot_image_classification_result.txt)."""
        from mindformers.pipeline import pipeline  # pylint: disable=import-outside-toplevel
        images = read_image_inputs(input_data if input_data is not None else config.input_data)
        image_processor = image_processor if image_processor is not None else image_processor_of(config)
        if not isinstance(image_processor, BaseImageProcessor):
            raise ConfigError(f"image_processor must be an image processor, got {type(image_processor).__name__}")
        tokenizer = self._tokenizer(config, tokenizer)
        if network is None:
            network = self.create_network(config)
        if config.load_checkpoint:
            self.load_weights(config, network)
        network.set_train(False)
        labels = self._candidate_labels(config, candidate_labels)
        template = hypothesis_template or self._eval_loader_value(config, 'hypothesis_template') or '{}'
        top_k = int(top_k or config.top_k or 1)
        classifier = pipeline('zero_shot_image_classification', model=network, image_processor=image_processor,
                              tokenizer=tokenizer)
        batch = math.gcd(len(images), int(batch_size or config.predict_batch_size or 1))   # chunks must be whole
        results = classifier(images, batch_size=batch, candidate_labels=labels, hypothesis_template=template,
                             top_k=min(top_k, len(labels)))
        self.save_predict_results(config, results)
        return results


MindFormerRegister.register_cls(ZeroShotImageClassificationTrainer, MindFormerModuleType.TRAINER,
                                alias='zero_shot_image_classification')
