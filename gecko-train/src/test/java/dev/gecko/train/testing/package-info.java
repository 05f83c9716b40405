/** Test support shared with gecko-cli's tests (via the test-jar): a loopback LLM server. */
package dev.gecko.train.testing;
