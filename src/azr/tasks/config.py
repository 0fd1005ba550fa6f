"""All settings of the task layer in one model, so a run's YAML can tune any of them."""

from __future__ import annotations

from pydantic import Field, model_validator

from azr.config import StrictModel
from azr.tasks.reply import ReplyStyle
from azr.tasks.safety import SafetyPolicyConfig
from azr.tasks.validation import ValidationConfig


class InductionConfig(StrictModel):
    """How many inputs an induction proposer writes and how many must survive."""

    num_inputs: int = Field(6, ge=2, description="inputs the proposer is asked for; extras are ignored")
    min_pairs: int = Field(4, ge=2, description="working input/output pairs a task needs (half shown, half hidden)")
    min_distinct_outputs: int = Field(2, ge=1, description="a task whose pairs share one output is trivial")

    @model_validator(mode="after")
    def _consistent(self) -> InductionConfig:
        if self.min_pairs > self.num_inputs:
            raise ValueError(f"min_pairs ({self.min_pairs}) cannot exceed num_inputs ({self.num_inputs})")
        return self


class TasksConfig(StrictModel):
    reply_style: ReplyStyle = Field(
        "think",
        description="think: both roles reason in <think></think> before <answer></answer> and other shapes are "
        "malformed (AZR); direct: the reply starts inside <answer> (for models too small to reason)",
    )
    validation: ValidationConfig = Field(default_factory=ValidationConfig)
    safety: SafetyPolicyConfig = Field(default_factory=SafetyPolicyConfig)
    induction: InductionConfig = Field(default_factory=InductionConfig)
