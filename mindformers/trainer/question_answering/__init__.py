"""question_answering task trainer."""
from .question_answering import QuestionAnsweringTrainer

__all__ = ['QuestionAnsweringTrainer']
