/**
 * The {@code gecko} command line. Data goes to standard output, progress and diagnostics to
 * standard error. Exit codes: 0 success, 1 failure, 2 usage error.
 */
package dev.gecko.cli;
