/**
 * FRet, the two-step LLM distillation of Gecko (Lee et al. 2024, section 3 and appendix A): generate
 * a task and query from a seed passage, retrieve the top N neighbours with an embedder, relabel them
 * with the same LLM (query likelihood and relevance classification fused by reciprocal rank), and
 * keep the best as the positive and the worst as the hard negative.
 *
 * <p>{@link dev.gecko.train.fret.FretPipeline} runs the whole thing resumably into a folder; its
 * parts ({@link dev.gecko.train.fret.QueryGenerator}, {@link dev.gecko.train.fret.Retriever},
 * {@link dev.gecko.train.fret.Relabeler}) are usable alone. Prompts live as resources with
 * replaceable few-shot examples ({@link dev.gecko.train.fret.Prompts}). Corpus text and LLM answers
 * are untrusted: passages are delimited and capped in prompts, and only schema-valid answers are
 * accepted.
 */
package dev.gecko.train.fret;
