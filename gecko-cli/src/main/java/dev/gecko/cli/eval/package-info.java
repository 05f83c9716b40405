/**
 * The {@code gecko eval} command: {@code gecko eval sts} and {@code gecko eval retrieval}, which
 * run {@link dev.gecko.train.eval} evaluators, print a table to stdout and optionally write JSON.
 */
package dev.gecko.cli.eval;
