package dev.gecko.core.internal.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.vector.VectorOps;
import dev.gecko.tokenizer.Encoding;
import dev.gecko.tokenizer.GeckoTokenizer;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Which queued texts the {@link Coalescer} takes into a batch: the oldest queued text is always in
 * the next batch, with the texts of about its length that the least-padding cut puts beside it,
 * even those queued after texts of another length, which wait for a later batch; and however a
 * call's texts are spread over batches, each call gets exactly its own vectors, in order.
 *
 * <p>Real model (fp32, so that a call's vectors match those of the same texts embedded alone),
 * the builder's batch limits, one runner. Deterministic: the runner is held ({@link HeldRunners})
 * until every call is queued, then runs every batch on the test thread, where no other batch runs
 * (so no runner waits for company). What each batch held is read from the embedder's counters
 * ({@link Stats}) at each batch, through the batch counter that a batch's run increments first
 * ({@link RecordingBatchCounter}), and from which calls were answered by then.
 */
class CoalescerBatchOrderTest {
  private static final String MODEL = "bge-small-en-v1.5";

  static ModelPackage pkg;
  static GeckoTokenizer tokenizer;
  static InferenceSession session;
  /** Each text embedded alone, one thread, coalescing off: the vectors a call must get. */
  static GeckoEmbedder reference;

  @BeforeAll
  static void open() throws Exception {
    pkg = ModelPackage.builtIn(MODEL);
    tokenizer = CoalescerFixtures.tokenizer(pkg, pkg.maxTokens());
    session = SessionLoader.open(OrtRuntime.environment(), pkg, settings());
    reference = GeckoEmbedder.builder().model(pkg).threads(1).coalescingWindow(Duration.ZERO).build();
  }

  @AfterAll
  static void close() {
    reference.close();
    session.close();
    tokenizer.close();
  }

  /** The settings {@code GeckoEmbedder.builder().threads(1)} opens an embedder with: one runner. */
  private static EmbedderSettings settings() {
    return CoalescerFixtures.builderDefaults(1);
  }

  /** A text of {@code word} repeated, whose rendered request is exactly {@code tokens} tokens long. */
  private static String text(String word, int tokens) {
    return CoalescerFixtures.textOfTokens(CoalescerBatchOrderTest::encode, word, tokens);
  }

  /** The encoding the embedder queues for a text (default prompt applied). */
  private static Encoding encode(String text) {
    Encoding e = tokenizer.encode(pkg.render(EmbedRequest.of(text)));
    assertThat(e.truncated()).isFalse();
    return e;
  }

  /**
   * The embedder's batch counter, which a batch's run increments right after the session returned
   * and before it counts the batch's texts and tokens or hands over its vectors: at each batch it
   * records the texts and tokens of the batches before, and which calls were answered by then.
   */
  static final class RecordingBatchCounter extends LongAdder {
    private static final long serialVersionUID = 1L;
    transient Stats stats;
    transient List<CompletableFuture<List<float[]>>> calls;
    /** Per batch: the texts and tokens counted before it. */
    final List<long[]> countedBefore = new ArrayList<>();
    /** Per batch: which calls were answered before it, as call numbers. */
    final List<List<Integer>> answeredBefore = new ArrayList<>();

    @Override
    public void increment() {
      super.increment();
      countedBefore.add(new long[] {stats.texts.sum(), stats.tokens.sum()});
      List<Integer> answered = new ArrayList<>();
      for (int c = 0; c < calls.size(); c++) {
        if (calls.get(c).isDone()) {
          answered.add(c);
        }
      }
      answeredBefore.add(answered);
    }
  }

  @Test
  void theOldestTextsBatchGoesNextAndTextsOfItsLengthQueuedLaterJoinItWhileOthersWait() throws Exception {
    // six texts of three lengths, queued short, long, medium, short, long, medium: the least-padding
    // cut of the builder's limits puts each length in a batch of its own (one batch of all six,
    // padded to the longest, costs more than three)
    String short1 = text("river", 8);
    String long1 = text("comet", 100);
    String medium1 = text("garden", 40);
    String short2 = text("violin", 9);
    String long2 = text("desert", 101);
    String medium2 = text("library", 41);
    assertThat(BatchCutter.cut(new int[] {8, 9, 40, 41, 100, 101}, GeckoEmbedder.Builder.DEFAULT_MAX_BATCH_TOKENS,
        GeckoEmbedder.Builder.DEFAULT_MAX_BATCH_SIZE)).as("one batch per length").containsExactly(2, 4, 6);
    // calls (their texts in queue order): one call's texts are of two lengths, in different batches
    List<List<String>> texts = List.of(List.of(short1), List.of(long1), List.of(medium1, short2), List.of(long2),
        List.of(medium2));
    int[] dims = {384, 256, 64, 128, 17};

    RecordingBatchCounter counter = new RecordingBatchCounter();
    Stats stats = new Stats(counter);
    counter.stats = stats;
    HeldRunners runners = new HeldRunners();
    CallGate gate = new CallGate();
    Coalescer coalescer = new Coalescer(tokenizer, session, null, settings(), runners, gate, new WorkspacePool(), stats);
    List<CompletableFuture<List<float[]>>> calls = new ArrayList<>();
    counter.calls = calls;
    for (int c = 0; c < texts.size(); c++) {
      calls.add(coalescer.submit(texts.get(c).stream().map(CoalescerBatchOrderTest::encode).toList(), dims[c]));
    }
    Runnable runner = runners.next();
    assertThat(runners.held).as("one runner for every call").isEmpty();
    runner.run(); // every batch, here, until the queue is empty

    // each batch's texts and tokens, from the counts before it and after the last
    List<String> batches = new ArrayList<>();
    List<long[]> counted = new ArrayList<>(counter.countedBefore);
    counted.add(new long[] {stats.texts.sum(), stats.tokens.sum()});
    for (int b = 1; b < counted.size(); b++) {
      batches.add((counted.get(b)[0] - counted.get(b - 1)[0]) + " texts, "
          + (counted.get(b)[1] - counted.get(b - 1)[1]) + " tokens");
    }
    assertThat(batches).as("the batches in the order they ran").containsExactly(
        "2 texts, 17 tokens", // short1 (the oldest), with short2, queued after long1 and medium1
        "2 texts, 201 tokens", // long1 (the oldest now), with long2, queued after medium1
        "2 texts, 81 tokens"); // medium1 and medium2
    assertThat(counter.answeredBefore).as("the calls answered before each batch").containsExactly(
        List.of(), // none
        List.of(0), // short1's call; medium1's call waits for medium1 still
        List.of(0, 1, 3)); // and the long texts' calls
    assertThat(calls).as("every call answered").allMatch(f -> f.isDone() && !f.isCompletedExceptionally());

    // each call's own vectors, in its texts' order, at its own width
    List<String> all = List.of(short1, long1, medium1, short2, long2, medium2);
    for (int i = 0; i < all.size(); i++) {
      for (int j = i + 1; j < all.size(); j++) {
        assertThat(VectorOps.cosine(reference.embed(all.get(i)), reference.embed(all.get(j))))
            .as("texts %d and %d: their vectors tell them apart", i, j).isLessThan(0.99f);
      }
    }
    for (int c = 0; c < texts.size(); c++) {
      List<float[]> got = calls.get(c).get();
      assertThat(got).as("call %d", c).hasSize(texts.get(c).size());
      for (int t = 0; t < got.size(); t++) {
        float[] want = reference.embed(texts.get(c).get(t), dims[c]);
        assertThat(got.get(t)).as("call %d, text %d", c, t).hasSize(dims[c]);
        assertThat(VectorOps.cosine(got.get(t), want)).as("call %d, text %d", c, t).isGreaterThanOrEqualTo(0.99999f);
      }
    }
    assertThat(runners.held).as("no runner started for nothing").isEmpty();
    assertThat(gate.closeAndAwait()).as("nothing left inside the gate").isTrue();
  }
}
