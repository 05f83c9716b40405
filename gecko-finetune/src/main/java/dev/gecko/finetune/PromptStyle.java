package dev.gecko.finetune;

/** How training texts are rendered, and so which prompts the trained package declares. Thread-safe (an enum). */
public enum PromptStyle {
  /** Gecko format when the objective is {@link FineTuneObjective#GECKO} and the data carries tasks; else the model's. */
  AUTO,
  /**
   * Gecko's unified format: queries {@code task: {task} | query: {query}}, documents {@code title:
   * {title} | text: {text}}; the written package declares {@code "promptFormat": "gecko"}.
   */
  GECKO,
  /** The base model's own prompts (bge's query instruction, e5's prefixes...), kept in the written package. */
  MODEL
}
