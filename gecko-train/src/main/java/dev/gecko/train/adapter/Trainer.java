package dev.gecko.train.adapter;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gecko.core.EmbedRequest;
import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.ModelPackage;
import dev.gecko.core.TaskType;
import dev.gecko.core.adapter.Adapter;
import dev.gecko.core.vector.VectorOps;
import dev.gecko.eval.RetrievalMetrics;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Trains a residual {@link Adapter} over a frozen embedding model for Matryoshka widths, and
 * writes a model folder that {@code GeckoEmbedder.builder().model(dir)} loads.
 *
 * <pre>{@code
 * TrainingResult r = Trainer.builder()
 *     .baseModel("bge-small-en-v1.5")
 *     .data(TrainingData.read(Path.of("pairs.train.tsv")))
 *     .objective(Objective.UNSUPERVISED)
 *     .dims(384, 256, 128, 64, 32)
 *     .output(Path.of("bge-mrl"))
 *     .build()
 *     .train();
 * }</pre>
 *
 * <h2>What happens</h2>
 * <ol>
 *   <li>The data is split into train and validation ({@link TrainingData#split}) unless a
 *       validation set is given.
 *   <li>The frozen base model (any adapter it has is ignored) embeds every distinct text once at
 *       full width; vectors are cached on disk under {@link Builder#cacheDir(Path)} keyed by
 *       model and rendered text, so a second run embeds nothing.
 *   <li>The {@link Basis} is fixed: by default ({@link Basis#IDENTITY}) none; with {@link
 *       Basis#PRINCIPAL_AXES} the principal axes of the training texts' vectors, computed once.
 *       The residual starts at zero, so the adapter starts as the base model (or as that
 *       rotation, which leaves full-width similarities unchanged).
 *   <li>The residual is trained on the cached vectors, rotated into the basis: mini-batches
 *       in a seeded order, the {@link Objective objective's} loss summed over the widths with
 *       their weights, AdamW, linear warm-up then cosine (or linear) decay.
 *   <li>After each epoch a validation score is computed (higher is better): {@link
 *       Objective#COSENT} the weighted mean over widths of Spearman's rho between cosine and
 *       score (all validation pairs); {@link Objective#CONTRASTIVE} the weighted mean
 *       reciprocal rank of each validation query's positive among all validation positives and
 *       its own negative, or, when every
 *       validation example carries a score, the same Spearman as COSENT over all of them (the
 *       graded signal rather than a binarised proxy); {@link
 *       Objective#UNSUPERVISED} by default minus the similarity-preservation loss on up to {@link
 *       Builder#maxValidation(int)} validation texts (neighbours taken among them), or with
 *       {@link UnsupervisedValidation#NEIGHBOURS} their neighbour recall (see {@link
 *       Builder#unsupervisedValidation}). The epoch with the best score is kept; training stops
 *       after {@link Builder#patience(int)} epochs without improvement. Epoch 0 is the basis
 *       alone (the base model itself with {@link Basis#IDENTITY}), so a residual that never beats
 *       it stays zero.
 * </ol>
 * Same data, settings and seed give a bit-identical adapter (training is single-threaded and
 * uses its own seeded generator).
 *
 * <p>A {@code Trainer} is immutable; {@link #train()} may be called more than once (each call
 * trains from scratch). Not for concurrent use on the same output folder.
 */
public final class Trainer {
  private static final System.Logger LOG = System.getLogger(Trainer.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  /** Names of the files the trainer writes into a model folder. */
  static final String ADAPTER_FILE = "adapter.safetensors";

  private final Builder b;

  private Trainer(Builder b) {
    this.b = b.copy();
  }

  /** Returns a new builder. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Embeds, trains and writes the model folder.
   *
   * @throws IOException if the data, cache or output cannot be read or written
   * @throws IllegalArgumentException if the data does not fit the objective (for example
   *     {@link Objective#COSENT} without scores), or the validation split is empty
   * @throws IllegalStateException if the base model cannot be opened
   */
  public TrainingResult train() throws IOException {
    ModelPackage base = b.baseModel.toBuilder().adapter(null).build();
    GeckoEmbedder owned = b.embedder == null ? GeckoEmbedder.builder().model(base).build() : null;
    try {
      GeckoEmbedder embedder = b.embedder != null ? b.embedder : owned;
      return run(embedder);
    } finally {
      if (owned != null) {
        owned.close();
      }
    }
  }

  private TrainingResult run(GeckoEmbedder embedder) throws IOException {
    ModelPackage base = embedder.model();
    int width = embedder.dimensions();
    int[] widths = b.dims.stream().mapToInt(Integer::intValue).sorted().distinct().toArray();
    if (widths.length == 0) {
      widths = Stream.of(width, 256, 128, 64, 32).filter(d -> d <= width).mapToInt(Integer::intValue)
          .sorted().distinct().toArray();
    }
    if (widths[widths.length - 1] > width) {
      throw new IllegalArgumentException("width " + widths[widths.length - 1] + " exceeds the model's " + width);
    }
    double[] weights = new double[widths.length];
    for (int w = 0; w < widths.length; w++) {
      weights[w] = b.dimWeights.getOrDefault(widths[w], 1.0);
    }
    Objective objective = b.objective != null ? b.objective
        : b.data.allScored() ? Objective.COSENT : b.data.allPaired() ? Objective.CONTRASTIVE : Objective.UNSUPERVISED;

    TrainingData trainData;
    TrainingData valData;
    if (b.validationData != null) {
      trainData = b.data;
      valData = b.validationData;
    } else {
      TrainingData.Split split = b.data.split(b.validationFraction, b.seed);
      trainData = split.train();
      valData = split.validation();
    }
    // Graded validation data is scored by Spearman whatever the training objective: for
    // CONTRASTIVE on scored pairs it measures what the scores mean, not a binarised proxy.
    Objective valObjective = objective == Objective.CONTRASTIVE && valData.size() > 0 && valData.allScored()
        ? Objective.COSENT : objective;
    trainData = prepare(trainData, objective, "training data");
    valData = prepare(valData, valObjective, "validation data");
    if (valData.size() == 0) {
      throw new IllegalArgumentException("the validation split is empty: give more data, a larger validationFraction"
          + " or validationData");
    }
    if (trainData.size() == 0) {
      throw new IllegalArgumentException("the training split is empty");
    }
    int trainSize = trainData.size();
    int valSize = valData.size();
    int[] ws = widths;
    // what the validation score is, as recorded in the adapter's metadata and logged
    String validation = valObjective == Objective.COSENT ? "spearman" : valObjective == Objective.CONTRASTIVE
        ? "mrr" : b.unsupervisedValidation == UnsupervisedValidation.NEIGHBOURS ? "neighbour-recall"
        : "similarity-preservation";
    LOG.log(System.Logger.Level.INFO, () -> String.format(Locale.ROOT,
        "training %s adapter on %s: %s%s, %d train / %d validation examples (%s), widths %s", b.kind, base.name(),
        objective, b.structureWeight > 0 && objective != Objective.UNSUPERVISED
            ? " + " + b.structureWeight + " x structure" : "",
        trainSize, valSize, validation, Arrays.toString(ws)));

    // --- embed every distinct text once
    Texts texts = new Texts();
    List<int[]> trainRows = texts.rows(trainData, objective);
    List<int[]> valRows = texts.rows(valData, valObjective);
    EmbeddingCache cache = EmbeddingCache.open(b.cacheDir, base, width);
    int n = texts.requests.size();
    report(new TrainingProgress(TrainingProgress.Stage.EMBEDDING, 0, n, 0, Double.NaN, Double.NaN));
    List<float[]> vectors = cache.embed(embedder, texts.requests,
        done -> report(new TrainingProgress(TrainingProgress.Stage.EMBEDDING, done, n, 0, Double.NaN, Double.NaN)));
    double[][] x = new double[n][width];
    for (int i = 0; i < n; i++) {
      float[] v = vectors.get(i);
      for (int t = 0; t < width; t++) {
        x[i][t] = v[t];
      }
    }

    Rng rng = new Rng(b.seed);
    if (objective == Objective.CONTRASTIVE && b.mineHardNegatives) {
      mineHardNegatives(trainRows, vectors);
    }
    float[][] basis = null;
    if (b.basis == Basis.PRINCIPAL_AXES) {
      basis = PrincipalAxes.of(x, trainRows);
      PrincipalAxes.rotate(basis, x);
    }
    Task task = new Task(objective, valObjective, widths, weights, x, trainRows, valRows, vectors, texts.scores);

    Model model = new Model(b.kind, width, b.hiddenSize > 0 ? b.hiddenSize : width, rng);
    AdamW opt = new AdamW(model.p.length, b.weightDecay);
    int stepsPerEpoch = (task.trainUnits() + b.batchSize - 1) / b.batchSize;
    int totalSteps = stepsPerEpoch * b.epochs;
    int warmup = (int) Math.round(b.warmupFraction * totalSteps);

    List<EpochStats> curve = new ArrayList<>();
    double best = task.validate(model);
    double[] bestParams = model.p.clone();
    int bestEpoch = 0;
    curve.add(new EpochStats(0, Double.NaN, best, 0));
    report(new TrainingProgress(TrainingProgress.Stage.VALIDATED, 0, 0, 0, Double.NaN, best));
    int sinceBest = 0;
    int step = 0;
    boolean stoppedEarly = false;
    double lr = 0;
    double[] grad = new double[model.p.length];
    for (int epoch = 1; epoch <= b.epochs; epoch++) {
      int[] order = new int[task.trainUnits()];
      for (int i = 0; i < order.length; i++) {
        order[i] = i;
      }
      rng.shuffle(order);
      double lossSum = 0;
      int steps = 0;
      for (int start = 0; start < order.length; start += b.batchSize) {
        int[] batch = Arrays.copyOfRange(order, start, Math.min(order.length, start + b.batchSize));
        if (batch.length < 2 && order.length >= 2) {
          continue; // a contrastive or ranking batch of one has no negatives
        }
        Arrays.fill(grad, 0);
        double loss = task.lossAndGrad(model, batch, grad);
        lr = learningRate(step, warmup, totalSteps);
        opt.step(model.p, grad, model.decay, lr);
        step++;
        steps++;
        lossSum += loss;
        report(new TrainingProgress(TrainingProgress.Stage.TRAINING, steps, stepsPerEpoch, epoch, lossSum / steps,
            curve.get(curve.size() - 1).validationScore()));
      }
      double score = task.validate(model);
      double meanLoss = steps == 0 ? Double.NaN : lossSum / steps;
      curve.add(new EpochStats(epoch, meanLoss, score, lr));
      report(new TrainingProgress(TrainingProgress.Stage.VALIDATED, steps, stepsPerEpoch, epoch, meanLoss, score));
      int e = epoch;
      LOG.log(System.Logger.Level.INFO, () -> String.format(Locale.ROOT, "epoch %d: loss %.5f, validation %.5f",
          e, meanLoss, score));
      if (score > best) {
        best = score;
        bestParams = model.p.clone();
        bestEpoch = epoch;
        sinceBest = 0;
      } else if (++sinceBest >= b.patience) {
        stoppedEarly = epoch < b.epochs;
        break;
      }
    }
    System.arraycopy(bestParams, 0, model.p, 0, bestParams.length);
    if (bestEpoch == 0) {
      double baseScore = best;
      LOG.log(System.Logger.Level.WARNING, () -> String.format(Locale.ROOT, "no epoch beat the base (validation %.5f);"
          + " the model written to %s is the basis with a zero residual%s", baseScore, b.output,
          b.basis == Basis.IDENTITY ? ", which embeds exactly as the base model does" : ""));
    }
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("baseModel", base.name());
    meta.put("objective", objective.name());
    if (b.structureWeight > 0 && objective != Objective.UNSUPERVISED) {
      meta.put("structureWeight", Double.toString(b.structureWeight));
    }
    meta.put("validation", validation);
    meta.put("widths", Arrays.toString(widths));
    meta.put("seed", Long.toString(b.seed));
    meta.put("bestEpoch", Integer.toString(bestEpoch));
    meta.put("basis", b.basis.name());
    Adapter adapter = model.toAdapter().withBasis(basis).withMetadata(meta);
    ModelPackage written = writePackage(base, adapter, widths, objective, bestEpoch, curve);
    return new TrainingResult(b.output, written, adapter, curve, bestEpoch, stoppedEarly);
  }

  private double learningRate(int step, int warmup, int total) {
    if (warmup > 0 && step < warmup) {
      return b.learningRate * (step + 1) / warmup;
    }
    double progress = total <= warmup ? 1 : (double) (step - warmup) / (total - warmup);
    switch (b.schedule) {
      case CONSTANT:
        return b.learningRate;
      case LINEAR:
        return b.learningRate * Math.max(0, 1 - progress);
      default:
        return b.learningRate * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress)));
    }
  }

  private void report(TrainingProgress p) {
    if (b.progress != null) {
      b.progress.accept(p);
    }
  }

  /** Checks the data against the objective and turns scored pairs into pairs where needed. */
  private TrainingData prepare(TrainingData data, Objective objective, String what) {
    List<TrainingExample> out = new ArrayList<>();
    for (TrainingExample e : data.examples()) {
      switch (objective) {
        case COSENT:
          if (e.score() == null) {
            throw new IllegalArgumentException(TrainingExample.where(e.source()) + what
                + ": the COSENT objective needs scored pairs (sentence1, sentence2, score)");
          }
          out.add(e);
          break;
        case CONTRASTIVE:
          if (e.positive() == null) {
            throw new IllegalArgumentException(TrainingExample.where(e.source()) + what
                + ": the CONTRASTIVE objective needs pairs or triplets (anchor, positive[, negative])");
          }
          if (e.score() == null || e.score() >= b.positiveThreshold) {
            out.add(e);
          }
          break;
        default:
          out.add(e);
      }
    }
    return TrainingData.of(out);
  }

  /** Maps (role, text) to vector indices and collects the requests to embed. */
  private final class Texts {
    final List<EmbedRequest> requests = new ArrayList<>();
    final Map<String, Integer> index = new HashMap<>();
    final List<String> text = new ArrayList<>();
    final List<Boolean> query = new ArrayList<>();
    /** The score of each COSENT row (rows are identity-keyed). */
    final Map<int[], Double> scores = new java.util.IdentityHashMap<>();

    int id(String t, boolean isQuery) {
      // Queries and documents may render differently (task prompts), so they are different vectors.
      boolean asQuery = isQuery && b.queryTaskType != null;
      String key = (asQuery ? "q\u0000" : "d\u0000") + t;
      Integer i = index.get(key);
      if (i == null) {
        i = requests.size();
        index.put(key, i);
        TaskType tt = asQuery ? b.queryTaskType : b.documentTaskType;
        requests.add(tt == null ? EmbedRequest.of(t) : EmbedRequest.of(tt, t));
        text.add(t);
        query.add(asQuery);
      }
      return i;
    }

    /** Rows of vector indices: UNSUPERVISED {text}, CONTRASTIVE {q, p, n or -1}, COSENT {a, b}. */
    List<int[]> rows(TrainingData data, Objective objective) {
      List<int[]> rows = new ArrayList<>();
      if (objective == Objective.UNSUPERVISED) {
        Set<Integer> seen = new LinkedHashSet<>();
        for (TrainingExample e : data.examples()) {
          seen.add(id(e.anchor(), false));
          if (e.positive() != null) {
            seen.add(id(e.positive(), false));
          }
          if (e.negative() != null) {
            seen.add(id(e.negative(), false));
          }
        }
        for (int i : seen) {
          rows.add(new int[] {i});
        }
        return rows;
      }
      for (TrainingExample e : data.examples()) {
        int q = id(e.anchor(), true);
        int p = id(e.positive(), false);
        if (objective == Objective.COSENT) {
          int[] row = {q, p};
          scores.put(row, e.score());
          rows.add(row);
        } else {
          rows.add(new int[] {q, p, e.negative() == null ? -1 : id(e.negative(), false)});
        }
      }
      return rows;
    }
  }

  /**
   * For rows without a negative: the candidate at rank {@code hardNegativeRank} (0-based) among
   * the training documents most similar to the query at full width, skipping the query itself
   * and every positive of that query.
   */
  private void mineHardNegatives(List<int[]> rows, List<float[]> vectors) {
    int[] pool = rows.stream().mapToInt(r -> r[1]).distinct().toArray();
    Map<Integer, Set<Integer>> positives = new HashMap<>();
    for (int[] r : rows) {
      positives.computeIfAbsent(r[0], k -> new TreeSet<>()).add(r[1]);
    }
    Map<Integer, Integer> mined = new HashMap<>();
    for (int[] r : rows) {
      if (r[2] >= 0) {
        continue;
      }
      Integer neg = mined.get(r[0]);
      if (neg == null) {
        float[] q = vectors.get(r[0]);
        Set<Integer> skip = positives.get(r[0]);
        Integer[] cand = Arrays.stream(pool).filter(c -> c != r[0] && !skip.contains(c)).boxed().toArray(Integer[]::new);
        if (cand.length == 0) {
          continue;
        }
        double[] sim = new double[vectors.size()];
        for (int c : cand) {
          sim[c] = VectorOps.dot(q, vectors.get(c));
        }
        Arrays.sort(cand, (u, v) -> u.equals(v) ? 0 : sim[u] != sim[v] ? Double.compare(sim[v], sim[u])
            : Integer.compare(u, v));
        neg = cand[Math.min(b.hardNegativeRank, cand.length - 1)];
        mined.put(r[0], neg);
      }
      r[2] = neg;
    }
  }

  /** The objective-specific batching, loss and validation over cached vectors. */
  private final class Task {
    final Objective objective;
    /** How validation rows are scored: COSENT = Spearman on scored pairs. */
    final Objective valObjective;
    final int[] widths;
    final double[] weights;
    final double[][] x;
    final List<int[]> train;
    final List<int[]> val;
    final Map<int[], Double> scores;
    /** UNSUPERVISED: each training text's full-width neighbours (vector indices) and cosines. */
    int[][] nn;
    double[][] nnSim;
    int[][] valNn;
    double[][] valNnSim;
    int[] valItems;
    /**
     * Supervised objectives with a structure weight: each training text's full-width neighbours
     * among all training texts ({@code regNn[regIndex[id]]}), for the regulariser's top-k term.
     */
    int[][] regNn;
    double[][] regNnSim;
    int[] regIndex;

    Task(Objective objective, Objective valObjective, int[] widths, double[] weights, double[][] x,
        List<int[]> train, List<int[]> val, List<float[]> vectors, Map<int[], Double> scores) {
      this.objective = objective;
      this.valObjective = valObjective;
      this.scores = scores;
      this.widths = widths;
      this.weights = weights;
      this.x = x;
      this.train = train;
      this.val = val;
      if (objective == Objective.UNSUPERVISED) {
        int[] items = train.stream().mapToInt(r -> r[0]).toArray();
        int k = Math.min(b.topK, items.length - 1);
        nn = new int[items.length][];
        nnSim = new double[items.length][];
        neighbours(items, vectors, k, nn, nnSim);
        int cap = Math.min(val.size(), b.maxValidation);
        valItems = val.stream().limit(cap).mapToInt(r -> r[0]).toArray();
        int vk = Math.min(b.topK, valItems.length - 1);
        valNn = new int[valItems.length][];
        valNnSim = new double[valItems.length][];
        neighbours(valItems, vectors, vk, valNn, valNnSim);
      } else if (b.structureWeight > 0) {
        int[] items = train.stream().flatMapToInt(Arrays::stream).filter(id -> id >= 0).distinct().toArray();
        int k = Math.min(b.topK, items.length - 1);
        regNn = new int[items.length][];
        regNnSim = new double[items.length][];
        neighbours(items, vectors, k, regNn, regNnSim);
        regIndex = new int[x.length];
        Arrays.fill(regIndex, -1);
        for (int i = 0; i < items.length; i++) {
          regIndex[items[i]] = i;
        }
      }
    }

    private boolean regularized() {
      return regNn != null;
    }

    int trainUnits() {
      return train.size();
    }

    /** Exact top-k by full-width cosine (vectors are unit length), ties by index. */
    private void neighbours(int[] items, List<float[]> vectors, int k, int[][] outIdx, double[][] outSim) {
      int m = items.length;
      int[][] idx = new int[m][k];
      double[][] sim = new double[m][k];
      int[] count = new int[m];
      for (int i = 0; i < m; i++) {
        float[] vi = vectors.get(items[i]);
        for (int j = i + 1; j < m; j++) {
          double s = VectorOps.dot(vi, vectors.get(items[j]));
          insert(idx[i], sim[i], count, i, j, s, k);
          insert(idx[j], sim[j], count, j, i, s, k);
        }
      }
      for (int i = 0; i < m; i++) {
        outIdx[i] = new int[count[i]];
        outSim[i] = new double[count[i]];
        for (int j = 0; j < count[i]; j++) {
          outIdx[i][j] = items[idx[i][j]];
          outSim[i][j] = sim[i][j];
        }
      }
    }

    private void insert(int[] idx, double[] sim, int[] count, int row, int cand, double s, int k) {
      if (k == 0) {
        return;
      }
      int c = count[row];
      if (c == k && s <= sim[k - 1]) {
        return;
      }
      int pos = c == k ? k - 1 : c;
      while (pos > 0 && sim[pos - 1] < s) {
        sim[pos] = sim[pos - 1];
        idx[pos] = idx[pos - 1];
        pos--;
      }
      sim[pos] = s;
      idx[pos] = cand;
      if (c < k) {
        count[row] = c + 1;
      }
    }

    /** Forward pass over a set of vector indices; returns local arrays. */
    private final class Local {
      final int[] global;
      final Map<Integer, Integer> local = new HashMap<>();
      final double[][] xs;
      final double[][] ys;
      final double[][] hs;

      Local(int[] ids, Model model) {
        LinkedHashSet<Integer> uniq = new LinkedHashSet<>();
        for (int id : ids) {
          if (id >= 0) {
            uniq.add(id);
          }
        }
        global = uniq.stream().mapToInt(Integer::intValue).toArray();
        xs = new double[global.length][];
        ys = new double[global.length][model.d];
        hs = new double[global.length][model.cacheSize()];
        for (int i = 0; i < global.length; i++) {
          local.put(global[i], i);
          xs[i] = x[global[i]];
          model.forward(xs[i], ys[i], hs[i]);
        }
      }

      int of(int g) {
        return g < 0 ? -1 : local.get(g);
      }
    }

    double lossAndGrad(Model model, int[] batch, double[] grad) {
      List<Integer> ids = new ArrayList<>();
      for (int r : batch) {
        for (int id : train.get(r)) {
          ids.add(id);
        }
        if (objective == Objective.UNSUPERVISED) {
          for (int j : nn[r]) {
            ids.add(j);
          }
        }
      }
      int[] texts = ids.stream().mapToInt(Integer::intValue).filter(id -> id >= 0).distinct().toArray();
      if (regularized()) {
        for (int id : texts) {
          for (int j : regNn[regIndex[id]]) {
            ids.add(j);
          }
        }
      }
      Local l = new Local(ids.stream().mapToInt(Integer::intValue).toArray(), model);
      double[][] g = new double[l.global.length][model.d];
      double loss = compute(l, batch, train, nn, nnSim, g, b.reconstructionWeight);
      if (regularized()) {
        loss += structure(l, texts, g);
      }
      for (int i = 0; i < l.global.length; i++) {
        model.backward(l.xs[i], l.hs[i], g[i], grad);
      }
      return loss;
    }

    private double compute(Local l, int[] batch, List<int[]> rows, int[][] nbr, double[][] nbrSim, double[][] g,
        double beta) {
      int n = batch.length;
      switch (objective) {
        case CONTRASTIVE: {
          int[] q = new int[n];
          int[] p = new int[n];
          int[] ng = new int[n];
          for (int i = 0; i < n; i++) {
            int[] r = rows.get(batch[i]);
            q[i] = l.of(r[0]);
            p[i] = l.of(r[1]);
            ng[i] = l.of(r[2]);
          }
          return Losses.contrastive(l.ys, q, p, ng, widths, weights, b.temperature, g);
        }
        case COSENT: {
          int[] a = new int[n];
          int[] c = new int[n];
          double[] label = new double[n];
          for (int i = 0; i < n; i++) {
            int[] r = rows.get(batch[i]);
            a[i] = l.of(r[0]);
            c[i] = l.of(r[1]);
            label[i] = scores.get(r);
          }
          return Losses.cosent(l.ys, a, c, label, widths, weights, b.cosentScale, g);
        }
        default: {
          int[] items = new int[n];
          int[][] nn2 = new int[n][];
          double[][] nnT = new double[n][];
          double[][] pairT = new double[n][n];
          for (int i = 0; i < n; i++) {
            int gi = rows.get(batch[i])[0];
            items[i] = l.of(gi);
            nn2[i] = new int[nbr[batch[i]].length];
            for (int k = 0; k < nn2[i].length; k++) {
              nn2[i][k] = l.of(nbr[batch[i]][k]);
            }
            nnT[i] = nbrSim[batch[i]];
          }
          for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
              pairT[i][j] = Stats.cosine(l.xs[items[i]], l.xs[items[j]], l.xs[items[i]].length);
            }
          }
          return Losses.unsupervised(l.ys, l.xs, items, nn2, pairT, nnT, widths, weights, b.pairWeight, beta, 1, g);
        }
      }
    }

    /**
     * The Matryoshka-Adaptor terms over the batch's distinct texts (global ids {@code texts}):
     * all their pairs, each one's precomputed top-k among the training texts, and reconstruction,
     * times the structure weight.
     */
    private double structure(Local l, int[] texts, double[][] g) {
      int n = texts.length;
      int[] items = new int[n];
      int[][] nn2 = new int[n][];
      double[][] nnT = new double[n][];
      double[][] pairT = new double[n][n];
      for (int i = 0; i < n; i++) {
        items[i] = l.of(texts[i]);
        int[] nbr = regNn[regIndex[texts[i]]];
        nn2[i] = new int[nbr.length];
        for (int k = 0; k < nbr.length; k++) {
          nn2[i][k] = l.of(nbr[k]);
        }
        nnT[i] = regNnSim[regIndex[texts[i]]];
      }
      for (int i = 0; i < n; i++) {
        for (int j = i + 1; j < n; j++) {
          pairT[i][j] = Stats.cosine(l.xs[items[i]], l.xs[items[j]], l.xs[items[i]].length);
        }
      }
      return Losses.unsupervised(l.ys, l.xs, items, nn2, pairT, nnT, widths, weights, b.pairWeight,
          b.reconstructionWeight, b.structureWeight, g);
    }

    double validate(Model model) {
      double wsum = Arrays.stream(weights).sum();
      switch (valObjective) {
        case COSENT: {
          // Spearman is cheap: every scored validation pair counts (no maxValidation cap).
          int m = val.size();
          List<int[]> rows = val;
          Local l = new Local(rows.stream().flatMapToInt(Arrays::stream).toArray(), model);
          double score = 0;
          double[] gold = new double[m];
          for (int i = 0; i < m; i++) {
            gold[i] = scores.get(rows.get(i));
          }
          for (int w = 0; w < widths.length; w++) {
            double[] pred = new double[m];
            for (int i = 0; i < m; i++) {
              pred[i] = Stats.cosine(l.ys[l.of(rows.get(i)[0])], l.ys[l.of(rows.get(i)[1])], widths[w]);
            }
            score += weights[w] * Stats.spearman(pred, gold);
          }
          return score / wsum;
        }
        case CONTRASTIVE: {
          // MRR (RetrievalMetrics) of each row's positive among all the rows' positives and the row's
          // own negative; the positive wins ties. A negative that is also another row's positive
          // stands twice.
          int m = Math.min(val.size(), b.maxValidation);
          List<int[]> rows = val.subList(0, m);
          Local l = new Local(rows.stream().flatMapToInt(Arrays::stream).toArray(), model);
          int[] cands = rows.stream().mapToInt(r -> l.of(r[1])).distinct().toArray();
          // Document ids: RetrievalMetrics ranks equal scores by id descending, so "p" (the positive)
          // goes before "n" (the row's negative) and "c..." (the candidates).
          String[] candId = new String[cands.length];
          for (int c = 0; c < cands.length; c++) {
            candId[c] = "c" + c;
          }
          Map<String, Integer> relevant = Map.of("p", 1);
          int nw = widths.length;
          Losses.PrefixCos pc = new Losses.PrefixCos(nw);
          double[] mrr = new double[nw];
          for (int[] r : rows) {
            double[] y = l.ys[l.of(r[0])];
            int positive = l.of(r[1]);
            List<Map<String, Double>> runs = new ArrayList<>(nw);
            pc.compute(y, l.ys[positive], widths);
            for (int w = 0; w < nw; w++) {
              Map<String, Double> run = new HashMap<>(2 * cands.length + 4);
              run.put("p", pc.cos[w]);
              runs.add(run);
            }
            for (int c = 0; c < cands.length; c++) {
              if (cands[c] != positive) {
                pc.compute(y, l.ys[cands[c]], widths);
                for (int w = 0; w < nw; w++) {
                  runs.get(w).put(candId[c], pc.cos[w]);
                }
              }
            }
            int negative = l.of(r[2]);
            if (negative >= 0 && negative != positive) {
              pc.compute(y, l.ys[negative], widths);
              for (int w = 0; w < nw; w++) {
                runs.get(w).put("n", pc.cos[w]);
              }
            }
            for (int w = 0; w < nw; w++) {
              int k = runs.get(w).size();
              mrr[w] += RetrievalMetrics.evaluateQuery(relevant, runs.get(w), List.of(k)).get("mrr_at_" + k)
                  / rows.size();
            }
          }
          double score = 0;
          for (int w = 0; w < widths.length; w++) {
            score += weights[w] * mrr[w];
          }
          return score / wsum;
        }
        default: {
          if (b.unsupervisedValidation == UnsupervisedValidation.NEIGHBOURS) {
            return neighbourRecall(model, wsum);
          }
          List<Integer> ids = new ArrayList<>();
          for (int i = 0; i < valItems.length; i++) {
            ids.add(valItems[i]);
            for (int j : valNn[i]) {
              ids.add(j);
            }
          }
          Local l = new Local(ids.stream().mapToInt(Integer::intValue).toArray(), model);
          List<int[]> rows = new ArrayList<>();
          int[] batch = new int[valItems.length];
          for (int i = 0; i < valItems.length; i++) {
            rows.add(new int[] {valItems[i]});
            batch[i] = i;
          }
          double[][] g = new double[l.global.length][model.d];
          return -compute(l, batch, rows, valNn, valNnSim, g, 0) / wsum;
        }
      }
    }

    /**
     * {@link UnsupervisedValidation#NEIGHBOURS}: for each validation text, the share of its top-k
     * full-width neighbours (among the validation texts, base model) that are also its top-k at
     * each width after the adapter ({@link RetrievalMetrics}' recall at k, every other validation
     * text retrieved), weighted mean over the widths.
     */
    private double neighbourRecall(Model model, double wsum) {
      int m = valItems.length;
      int k = 0;
      for (int[] nbrs : valNn) {
        k = Math.max(k, nbrs.length);
      }
      if (k == 0) {
        return 0;
      }
      // Document ids that sort in DESCENDING order of position: RetrievalMetrics ranks equal scores
      // by id descending, and so it keeps the earlier text first, as the trainer's top-k does.
      String[] docId = new String[m];
      Map<Integer, Integer> position = new HashMap<>();
      for (int j = 0; j < m; j++) {
        docId[j] = String.format(Locale.ROOT, "%010d", Integer.MAX_VALUE - j);
        position.put(valItems[j], j);
      }
      Local l = new Local(valItems, model);
      int nw = widths.length;
      Losses.PrefixCos pc = new Losses.PrefixCos(nw);
      List<Integer> cutoff = List.of(k);
      String metric = "recall_at_" + k;
      double[] recall = new double[nw];
      for (int i = 0; i < m; i++) {
        Map<String, Integer> wanted = new HashMap<>();
        for (int t : valNn[i]) {
          wanted.put(docId[position.get(t)], 1);
        }
        List<Map<String, Double>> runs = new ArrayList<>(nw);
        for (int w = 0; w < nw; w++) {
          runs.add(new HashMap<>(2 * m));
        }
        double[] yi = l.ys[l.of(valItems[i])];
        for (int j = 0; j < m; j++) {
          if (j != i) {
            pc.compute(yi, l.ys[l.of(valItems[j])], widths);
            for (int w = 0; w < nw; w++) {
              runs.get(w).put(docId[j], pc.cos[w]);
            }
          }
        }
        for (int w = 0; w < nw; w++) {
          recall[w] += RetrievalMetrics.evaluateQuery(wanted, runs.get(w), cutoff).get(metric);
        }
      }
      double score = 0;
      for (int w = 0; w < nw; w++) {
        score += weights[w] * recall[w] / m;
      }
      return score / wsum;
    }
  }

  private ModelPackage writePackage(ModelPackage base, Adapter adapter, int[] widths, Objective objective,
      int bestEpoch, List<EpochStats> curve) throws IOException {
    Path dir = b.output;
    Files.createDirectories(dir);
    try (Stream<Path> s = Files.list(dir)) {
      List<Path> existing = s.toList();
      if (!existing.isEmpty() && !Files.exists(dir.resolve(ModelPackage.MANIFEST))) {
        throw new IllegalArgumentException(dir + ": output folder is not empty and holds no " + ModelPackage.MANIFEST
            + "; refusing to write into it");
      }
    }
    copy(base.model(), dir.resolve("model.onnx"));
    copy(base.tokenizer(), dir.resolve("tokenizer.json"));
    adapter.save(dir.resolve(ADAPTER_FILE));
    ObjectNode m = JSON.createObjectNode();
    m.put("name", b.outputName != null ? b.outputName : base.name() + "-mrl-adapter");
    m.put("pooling", base.pooling().name().toLowerCase(Locale.ROOT));
    m.put("maxTokens", base.maxTokens());
    m.put("dimensions", adapter.dimensions());
    m.put("model", "model.onnx");
    m.put("tokenizer", "tokenizer.json");
    ObjectNode prompts = m.putObject("prompts");
    base.prompts().forEach((t, p) -> prompts.put(t.name(), p));
    base.defaultPrompt().ifPresent(p -> m.put("defaultPrompt", p));
    ArrayNode dims = m.putArray("matryoshkaDims");
    for (int w = widths.length - 1; w >= 0; w--) {
      dims.add(widths[w]);
    }
    m.put("adapter", ADAPTER_FILE);
    ObjectNode t = m.putObject("training");
    t.put("baseModel", base.name());
    t.put("objective", objective.name());
    t.put("adapterKind", b.kind.name());
    t.put("basis", b.basis.name());
    t.put("validation", adapter.metadata().get("validation"));
    t.put("seed", b.seed);
    t.put("bestEpoch", bestEpoch);
    ArrayNode c = t.putArray("curve");
    for (EpochStats e : curve) {
      ObjectNode o = c.addObject();
      o.put("epoch", e.epoch());
      o.put("trainLoss", Double.isNaN(e.trainLoss()) ? null : e.trainLoss());
      o.put("validationScore", e.validationScore());
    }
    JSON.writeValue(dir.resolve(ModelPackage.MANIFEST).toFile(), m);
    return ModelPackage.fromDirectory(dir);
  }

  private static void copy(ModelPackage.Source from, Path to) throws IOException {
    if (from.path().isPresent() && Files.exists(to) && Files.isSameFile(from.path().get(), to)) {
      return;
    }
    try (InputStream in = from.open()) {
      Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** How the learning rate decays after warm-up. */
  public enum Schedule {
    /** Half a cosine from the peak to zero. */
    COSINE,
    /** A straight line from the peak to zero. */
    LINEAR,
    /** No decay. */
    CONSTANT
  }

  /**
   * Builds a {@link Trainer}. Each setter validates its argument at once; {@link #build()} checks
   * that base model, data and output are set. Reusable; not thread-safe.
   */
  public static final class Builder {
    private ModelPackage baseModel;
    private GeckoEmbedder embedder;
    private TrainingData data;
    private TrainingData validationData;
    private Objective objective;
    private List<Integer> dims = new ArrayList<>();
    private Map<Integer, Double> dimWeights = new HashMap<>();
    private Adapter.Kind kind = Adapter.Kind.LINEAR;
    private Basis basis = Basis.IDENTITY;
    private UnsupervisedValidation unsupervisedValidation = UnsupervisedValidation.SIMILARITIES;
    private int hiddenSize;
    private int epochs = 20;
    private int batchSize = 64;
    private double learningRate = 1e-3;
    private double weightDecay = 0.01;
    private double warmupFraction = 0.1;
    private Schedule schedule = Schedule.COSINE;
    private long seed = 42;
    private double validationFraction = 0.1;
    private int patience = 3;
    private double temperature = 0.05;
    private double cosentScale = 20;
    private int topK = 10;
    private double pairWeight = 1;
    private double reconstructionWeight = 1;
    private double structureWeight;
    private double positiveThreshold = 4.0;
    private boolean mineHardNegatives;
    private int hardNegativeRank = 2;
    private int maxValidation = 1000;
    private TaskType queryTaskType;
    private TaskType documentTaskType;
    private Path cacheDir;
    private Path output;
    private String outputName;
    private Consumer<TrainingProgress> progress;

    private Builder() {}

    private Builder copy() {
      Builder c = new Builder();
      c.baseModel = baseModel;
      c.embedder = embedder;
      c.data = data;
      c.validationData = validationData;
      c.objective = objective;
      c.dims = List.copyOf(dims);
      c.dimWeights = Map.copyOf(dimWeights);
      c.kind = kind;
      c.basis = basis;
      c.unsupervisedValidation = unsupervisedValidation;
      c.hiddenSize = hiddenSize;
      c.epochs = epochs;
      c.batchSize = batchSize;
      c.learningRate = learningRate;
      c.weightDecay = weightDecay;
      c.warmupFraction = warmupFraction;
      c.schedule = schedule;
      c.seed = seed;
      c.validationFraction = validationFraction;
      c.patience = patience;
      c.temperature = temperature;
      c.cosentScale = cosentScale;
      c.topK = topK;
      c.pairWeight = pairWeight;
      c.reconstructionWeight = reconstructionWeight;
      c.structureWeight = structureWeight;
      c.positiveThreshold = positiveThreshold;
      c.mineHardNegatives = mineHardNegatives;
      c.hardNegativeRank = hardNegativeRank;
      c.maxValidation = maxValidation;
      c.queryTaskType = queryTaskType;
      c.documentTaskType = documentTaskType;
      c.cacheDir = cacheDir;
      c.output = output;
      c.outputName = outputName;
      c.progress = progress;
      return c;
    }

    /** Sets the frozen base model (its adapter, if any, is ignored). Required. */
    public Builder baseModel(ModelPackage model) {
      this.baseModel = Objects.requireNonNull(model, "model is null");
      return this;
    }

    /**
     * Sets the base model by built-in name or folder path.
     *
     * @throws IllegalArgumentException if it is neither
     */
    public Builder baseModel(String nameOrPath) {
      return baseModel(ModelPackage.resolve(nameOrPath));
    }

    /**
     * Uses an open embedder of the base model instead of opening one (the caller keeps
     * ownership). It must not have an adapter.
     *
     * @throws IllegalArgumentException if it has an adapter
     */
    public Builder embedder(GeckoEmbedder embedder) {
      Objects.requireNonNull(embedder, "embedder is null");
      if (embedder.model().adapter().isPresent()) {
        throw new IllegalArgumentException("the embedder's model already has an adapter; give the base model");
      }
      this.embedder = embedder;
      this.baseModel = embedder.model();
      return this;
    }

    /** Sets the training data. Required. */
    public Builder data(TrainingData data) {
      this.data = Objects.requireNonNull(data, "data is null");
      return this;
    }

    /** Sets a separate validation set; by default a split of the data is used. */
    public Builder validationData(TrainingData data) {
      this.validationData = Objects.requireNonNull(data, "validation data is null");
      return this;
    }

    /**
     * Sets the objective. Default: {@link Objective#COSENT} if every example is scored, else
     * {@link Objective#CONTRASTIVE} if every example is a pair, else {@link Objective#UNSUPERVISED}.
     */
    public Builder objective(Objective objective) {
      this.objective = Objects.requireNonNull(objective, "objective is null");
      return this;
    }

    /**
     * Sets the Matryoshka widths the loss is summed over (any order; the full width should be one
     * of them). Default: the full width, 256, 128, 64, 32 (those not above the full width).
     *
     * @throws IllegalArgumentException if a width is below 1
     */
    public Builder dims(int... widths) {
      List<Integer> l = new ArrayList<>();
      for (int d : widths) {
        if (d < 1) {
          throw new IllegalArgumentException("widths must be >= 1, was " + d);
        }
        l.add(d);
      }
      this.dims = l;
      return this;
    }

    /**
     * Sets the weight of one width's loss (default 1).
     *
     * @throws IllegalArgumentException if the weight is negative or not finite
     */
    public Builder dimWeight(int width, double weight) {
      if (!(weight >= 0) || Double.isInfinite(weight)) {
        throw new IllegalArgumentException("weight must be finite and >= 0, was " + weight);
      }
      dimWeights.put(width, weight);
      return this;
    }

    /** Sets the adapter's shape. Default {@link Adapter.Kind#LINEAR}. */
    public Builder adapterKind(Adapter.Kind kind) {
      this.kind = Objects.requireNonNull(kind, "kind is null");
      return this;
    }

    /**
     * The fixed basis the residual is trained in: default {@link Basis#IDENTITY} (the base model's
     * own coordinates, {@code e' = u} at the start); {@link Basis#PRINCIPAL_AXES} is computed from
     * the training split's texts and is the better start for retrieval (docs/training.md).
     */
    public Builder basis(Basis basis) {
      this.basis = Objects.requireNonNull(basis, "basis is null");
      return this;
    }

    /**
     * What an unsupervised adapter is validated on (default {@link
     * UnsupervisedValidation#SIMILARITIES}); ignored by the supervised objectives.
     */
    public Builder unsupervisedValidation(UnsupervisedValidation validation) {
      this.unsupervisedValidation = Objects.requireNonNull(validation, "validation is null");
      return this;
    }

    /** Sets the MLP's hidden width (default: the model's width). */
    public Builder hiddenSize(int hidden) {
      this.hiddenSize = positive(hidden, "hiddenSize");
      return this;
    }

    /** Sets the maximum number of epochs (default 20). */
    public Builder epochs(int epochs) {
      this.epochs = positive(epochs, "epochs");
      return this;
    }

    /** Sets the mini-batch size (default 64). */
    public Builder batchSize(int size) {
      if (size < 2) {
        throw new IllegalArgumentException("batchSize must be >= 2, was " + size);
      }
      this.batchSize = size;
      return this;
    }

    /** Sets the peak learning rate (default 1e-3). */
    public Builder learningRate(double lr) {
      this.learningRate = positive(lr, "learningRate");
      return this;
    }

    /** Sets AdamW's decoupled weight decay (default 0.01; 0 for plain Adam). */
    public Builder weightDecay(double decay) {
      this.weightDecay = nonNegative(decay, "weightDecay");
      return this;
    }

    /** Sets the fraction of all steps spent warming the learning rate up linearly (default 0.1). */
    public Builder warmupFraction(double fraction) {
      if (!(fraction >= 0 && fraction < 1)) {
        throw new IllegalArgumentException("warmupFraction must be in [0, 1), was " + fraction);
      }
      this.warmupFraction = fraction;
      return this;
    }

    /** Sets the decay after warm-up (default {@link Schedule#COSINE}). */
    public Builder schedule(Schedule schedule) {
      this.schedule = Objects.requireNonNull(schedule, "schedule is null");
      return this;
    }

    /** Sets the seed of the split, initialisation and batch order (default 42). */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** Sets the validation fraction of the deterministic split (default 0.1). */
    public Builder validationFraction(double fraction) {
      if (!(fraction > 0 && fraction < 1)) {
        throw new IllegalArgumentException("validationFraction must be in (0, 1), was " + fraction);
      }
      this.validationFraction = fraction;
      return this;
    }

    /** Sets how many epochs without a better validation score end training (default 3). */
    public Builder patience(int epochs) {
      this.patience = positive(epochs, "patience");
      return this;
    }

    /** Sets the softmax temperature of {@link Objective#CONTRASTIVE} (default 0.05). */
    public Builder temperature(double tau) {
      this.temperature = positive(tau, "temperature");
      return this;
    }

    /** Sets the CoSENT scale (inverse temperature, default 20). */
    public Builder cosentScale(double scale) {
      this.cosentScale = positive(scale, "cosentScale");
      return this;
    }

    /** Sets k of the unsupervised top-k neighbourhood loss (default 10). */
    public Builder topK(int k) {
      this.topK = nonNegativeInt(k, "topK");
      return this;
    }

    /** Sets alpha, the weight of the unsupervised all-pairs loss (default 1). */
    public Builder pairWeight(double alpha) {
      this.pairWeight = nonNegative(alpha, "pairWeight");
      return this;
    }

    /** Sets beta, the weight of the unsupervised L1 reconstruction loss (default 1). */
    public Builder reconstructionWeight(double beta) {
      this.reconstructionWeight = nonNegative(beta, "reconstructionWeight");
      return this;
    }

    /**
     * For {@link Objective#CONTRASTIVE} and {@link Objective#COSENT}: adds the unsupervised
     * Matryoshka-Adaptor terms, times {@code weight}, to the supervised loss as a regulariser
     * (the supervised variant of Yoon et al. 2024, eq. 6). Over each batch's distinct texts
     * (queries, positives, negatives): every pair's and each text's top-k (see {@link
     * #topK(int)}, neighbours among all training texts) truncated-width cosines are pulled
     * towards the base model's full-width cosines, plus the L1 reconstruction term (weights
     * {@link #pairWeight(double)}, {@link #reconstructionWeight(double)}). The paper weighs
     * the ranking loss by gamma = 1 and these terms by 1; {@code weight} 1 is that objective.
     * Default 0 (off). Ignored by {@link Objective#UNSUPERVISED}, which is these terms alone.
     *
     * @throws IllegalArgumentException if the weight is negative or not finite
     */
    public Builder structureWeight(double weight) {
      this.structureWeight = nonNegative(weight, "structureWeight");
      return this;
    }

    /** For {@link Objective#CONTRASTIVE} on scored pairs: the least score of a positive (default 4). */
    public Builder positiveThreshold(double score) {
      if (!Double.isFinite(score)) {
        throw new IllegalArgumentException("positiveThreshold must be finite");
      }
      this.positiveThreshold = score;
      return this;
    }

    /**
     * For {@link Objective#CONTRASTIVE}: give rows without a negative a mined one, the candidate at
     * 0-based rank {@code rank} among the training documents most similar to the query (its own
     * positives skipped). Default off; rank default 2.
     */
    public Builder mineHardNegatives(boolean mine) {
      this.mineHardNegatives = mine;
      return this;
    }

    /** Sets the rank of mined hard negatives (see {@link #mineHardNegatives(boolean)}). */
    public Builder hardNegativeRank(int rank) {
      this.hardNegativeRank = nonNegativeInt(rank, "hardNegativeRank");
      return this;
    }

    /**
     * Sets the most validation rows (MRR) or texts (unsupervised, either validation) scored each epoch
     * (default 1000); Spearman on scored pairs always uses every pair.
     */
    public Builder maxValidation(int rows) {
      this.maxValidation = positive(rows, "maxValidation");
      return this;
    }

    /** Renders anchors (queries) with this task type's prompt; default null (the model's default prompt). */
    public Builder queryTaskType(TaskType type) {
      this.queryTaskType = type;
      return this;
    }

    /** Renders positives, negatives and corpus texts with this task type; default null. */
    public Builder documentTaskType(TaskType type) {
      this.documentTaskType = type;
      return this;
    }

    /** Sets the folder of the embedding cache; null (default) keeps vectors in memory only. */
    public Builder cacheDir(Path dir) {
      this.cacheDir = dir;
      return this;
    }

    /**
     * Sets the model folder to write. Required. It must be new, empty or a previous output (it
     * holds {@code gecko-model.json}).
     */
    public Builder output(Path dir) {
      this.output = Objects.requireNonNull(dir, "output is null");
      return this;
    }

    /** Sets the name in the written manifest (default: base name + {@code "-mrl-adapter"}). */
    public Builder outputName(String name) {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("outputName must be a non-empty string");
      }
      this.outputName = name;
      return this;
    }

    /** Receives progress on the training thread; null for none. */
    public Builder progress(Consumer<TrainingProgress> listener) {
      this.progress = listener;
      return this;
    }

    /**
     * Returns the trainer, after checking that the output folder can be written (so that a bad
     * folder is refused before minutes of training, not after).
     *
     * @throws IllegalStateException if base model, data or output is missing
     * @throws IllegalArgumentException if the output folder is a file, is not empty and holds no
     *     {@code gecko-model.json}, or cannot be created or written
     */
    public Trainer build() {
      if (baseModel == null || data == null || output == null) {
        throw new IllegalStateException("baseModel, data and output are required");
      }
      checkOutputFolder(output);
      return new Trainer(this);
    }

    /** The checks of {@link #build()} on the output folder. */
    static void checkOutputFolder(Path dir) {
      if (Files.exists(dir)) {
        if (!Files.isDirectory(dir)) {
          throw new IllegalArgumentException(dir + ": the output folder is a file");
        }
        try (Stream<Path> s = Files.list(dir)) {
          if (s.findAny().isPresent() && !Files.exists(dir.resolve(ModelPackage.MANIFEST))) {
            throw new IllegalArgumentException(dir + ": the output folder is not empty and holds no "
                + ModelPackage.MANIFEST + " (not an earlier output); refusing to write into it");
          }
        } catch (IOException e) {
          throw new IllegalArgumentException(dir + ": cannot list the output folder: " + e.getMessage(), e);
        }
        if (!Files.isWritable(dir)) {
          throw new IllegalArgumentException(dir + ": the output folder is not writable");
        }
        return;
      }
      Path parent = dir.toAbsolutePath().getParent();
      while (parent != null && !Files.exists(parent)) {
        parent = parent.getParent();
      }
      if (parent == null || !Files.isDirectory(parent) || !Files.isWritable(parent)) {
        throw new IllegalArgumentException(dir + ": the output folder cannot be created ("
            + (parent == null ? "no existing parent" : parent + " is not a writable folder") + ")");
      }
    }

    private static int positive(int v, String name) {
      if (v < 1) {
        throw new IllegalArgumentException(name + " must be >= 1, was " + v);
      }
      return v;
    }

    private static int nonNegativeInt(int v, String name) {
      if (v < 0) {
        throw new IllegalArgumentException(name + " must be >= 0, was " + v);
      }
      return v;
    }

    private static double positive(double v, String name) {
      if (!(v > 0) || Double.isInfinite(v)) {
        throw new IllegalArgumentException(name + " must be finite and > 0, was " + v);
      }
      return v;
    }

    private static double nonNegative(double v, String name) {
      if (!(v >= 0) || Double.isInfinite(v)) {
        throw new IllegalArgumentException(name + " must be finite and >= 0, was " + v);
      }
      return v;
    }
  }
}
