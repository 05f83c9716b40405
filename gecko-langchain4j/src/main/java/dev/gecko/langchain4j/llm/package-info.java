/**
 * Any LangChain4j {@code ChatModel} as the LLM of Gecko's FRet distillation: {@link
 * dev.gecko.langchain4j.llm.ChatModelLlmClient}. Needs gecko-train on the classpath (an optional
 * dependency of this artifact: add it beside it).
 */
package dev.gecko.langchain4j.llm;
