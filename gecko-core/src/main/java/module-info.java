/**
 * Compact text embeddings in-process on ONNX Runtime: {@link dev.gecko.core.GeckoEmbedder}, the
 * model packages it runs, exact vector search, and the project's one reader of data files.
 *
 * <p>API packages: {@code dev.gecko.core}, {@code dev.gecko.core.io}, {@code dev.gecko.core.index},
 * {@code dev.gecko.core.vector}, {@code dev.gecko.core.adapter}. The {@code
 * dev.gecko.core.internal.*} packages are exported only to this project's other modules; they are
 * not API and change without notice. The Vector API incubator module is optional: without it
 * (no {@code --add-modules jdk.incubator.vector}) the scalar kernels run.
 */
module dev.gecko.core {
  requires dev.gecko.tokenizer;
  requires com.microsoft.onnxruntime;
  // transitive: dev.gecko.core.io's JsonlReader returns Jackson's ObjectNode
  requires transitive com.fasterxml.jackson.databind;
  requires static jdk.incubator.vector;
  // the JIT checks of the Vector API guards; absent at run time, they are skipped
  requires static java.management;
  requires static jdk.management;

  exports dev.gecko.core;
  exports dev.gecko.core.adapter;
  exports dev.gecko.core.index;
  exports dev.gecko.core.io;
  exports dev.gecko.core.vector;

  exports dev.gecko.core.internal.cache to dev.gecko.eval;
  exports dev.gecko.core.internal.index to dev.gecko.train, dev.gecko.spark;
  exports dev.gecko.core.internal.io to dev.gecko.eval, dev.gecko.train, dev.gecko.finetune, dev.gecko.cli,
      dev.gecko.spark;
  exports dev.gecko.core.internal.onnx to dev.gecko.finetune;
  exports dev.gecko.core.internal.model to dev.gecko.eval, dev.gecko.train, dev.gecko.finetune;

  // ModelManifest, a record read by Jackson databind
  opens dev.gecko.core to com.fasterxml.jackson.databind;
}
