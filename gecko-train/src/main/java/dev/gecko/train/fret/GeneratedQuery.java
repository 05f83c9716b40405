package dev.gecko.train.fret;

/**
 * The output of step 1: a task description and a query for it.
 *
 * @param task the task, e.g. "Given a query, find a passage that has the answer to the query."
 * @param query the query
 */
public record GeneratedQuery(String task, String query) {}
