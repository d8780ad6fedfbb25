"""ImageClassificationTrainer: the `image_classification` task (train / fine-tune an image classifier, Top1
accuracy, predict on image files or folders)."""
import math
import os

from mindformers.models.build_processor import build_processor
from mindformers.models.image_processor import BaseImageProcessor, images_in
from mindformers.tools.errors import ConfigError, DatasetError, dataset_errors
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType
from mindformers.trainer.base_trainer import BaseTrainer


def read_image_inputs(input_data):
    """An image file, a folder of images, a .txt file of image paths, or a list of paths / images -> a list."""
    if input_data is None:
        raise ConfigError("predict needs images: --predict_data <image file | folder of images | .txt of paths>")
    if isinstance(input_data, str):
        if os.path.isdir(input_data):
            return images_in(input_data)
        if input_data.endswith('.txt') and os.path.isfile(input_data):
            with open(input_data, encoding='utf-8') as stream:
                paths = [line.strip() for line in stream if line.strip()]
            if not paths:
                raise ConfigError(f"predict data file {input_data} lists no image")
            return paths
        if not os.path.isfile(input_data):
            raise DatasetError(f"predict image {input_data} does not exist")
        return [input_data]
    if isinstance(input_data, (list, tuple)):
        return list(input_data)
    return [input_data]


def check_image_shape(dataset, network, section):
    """The images the data gives must have the model's channels and size, and its folders must not hold more
    classes than the model has labels."""
    config = getattr(network, 'config', None)
    num_labels = getattr(config, 'num_labels', None)
    num_classes = getattr(dataset, 'num_classes', None)   # our image datasets' count (a MindSpore Dataset's
    if not isinstance(num_classes, int):                  # num_classes is a method: a user's dataset has none)
        num_classes = None
    if num_labels and num_classes and num_classes > num_labels:
        raise DatasetError(f"{section} data has {num_classes} classes ({', '.join(dataset.class_names[:5])}"
                           f"{', ...' if num_classes > 5 else ''}) but the model has num_labels {num_labels}; "
                           f"set model.model_config.num_labels {num_classes}")
    image_size = getattr(config, 'image_size', None)
    if image_size is None or not hasattr(dataset, 'output_shapes'):
        return
    with dataset_errors():
        shape = tuple(dataset.output_shapes()[0])
    wanted = (getattr(config, 'num_channels', shape[1] if len(shape) == 4 else None), image_size, image_size)
    if len(shape) != 4 or shape[1:] != wanted:
        raise DatasetError(f"{section} images come as {shape[1:]} (channels, height, width) but the model takes "
                           f"{wanted}; end the dataset's transforms with a resize/crop to {image_size} and "
                           f"ToTensor (CHW), or set model.model_config.image_size / num_channels")


def image_processor_of(config):
    """The YAML's processor.image_processor (ViTImageProcessor, CLIPImageProcessor, ...)."""
    section = (config.processor or {}).get('image_processor')
    if not section or not section.get('type'):
        raise ConfigError("predict needs an image processor: set processor.image_processor (its type, size, mean, "
                          "std) in the YAML or pass image_processor= to the Trainer")
    return build_processor(section.to_dict() if hasattr(section, 'to_dict') else dict(section))


@MindFormerRegister.register(MindFormerModuleType.TRAINER)
class ImageClassificationTrainer(BaseTrainer):
    """Trainer for image classifiers (ViTForImageClassification): batches of (image, label)."""
    default_metric = 'Accuracy'
    task_name = 'image_classification'
    metric_name = 'Top1 Accuracy'

    def __init__(self, model_name=None):
        super().__init__(self.task_name, model_name)

    @staticmethod
    def _check_record_length(dataset, network, section):
        check_image_shape(dataset, network, section)

    def predict(self, config=None, input_data=None, network=None, image_processor=None, batch_size=None,
                **kwargs):
        """Classify images (a file, a folder, a .txt of paths, or a list of paths / PIL images / arrays) through
        the image_classification pipeline: one `[{'score', 'label'}, ...]` list per image, best first (`top_k`
        keeps the first k), written to `save_file` (default image_classification_result.txt)."""
        from mindformers.pipeline import pipeline  # pylint: disable=import-outside-toplevel
        images = read_image_inputs(input_data if input_data is not None else config.input_data)
        if image_processor is None:
            image_processor = image_processor_of(config)
        if not isinstance(image_processor, BaseImageProcessor):
            raise ConfigError(f"image_processor must be an image processor, got {type(image_processor).__name__}")
        if network is None:
            network = self.create_network(config)
        if config.load_checkpoint:
            self.load_weights(config, network)
        network.set_train(False)
        options = {key: kwargs[key] for key in ('top_k', 'dataset') if kwargs.get(key) is not None}
        classifier = pipeline('image_classification', model=network, image_processor=image_processor)
        batch = math.gcd(len(images), int(batch_size or config.predict_batch_size or 1))  # chunks must be whole
        results = classifier(images, batch_size=batch, **options)
        self.save_predict_results(config, results)
        return results


# also reachable by the task name
MindFormerRegister.register_cls(ImageClassificationTrainer, MindFormerModuleType.TRAINER,
                                alias='image_classification')
