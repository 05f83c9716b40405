package dev.gecko.finetune;

import dev.gecko.core.TaskType;
import dev.gecko.train.adapter.Basis;
import java.nio.file.Path;
import java.util.List;

/**
 * The settings of one fine-tuning run, as {@link FineTuner.Builder} validated them. Immutable and
 * thread-safe.
 *
 * @param objective the loss
 * @param dims the Matryoshka widths, widest first (the full width always included)
 * @param dimWeights the weight of each width's loss, aligned with {@code dims}
 * @param epochs passes over the training data
 * @param batchSize rows per optimizer step (the in-batch negatives)
 * @param miniBatchSize texts per forward pass: with fewer than a batch's texts, gradient caching
 *     computes the same gradients in pieces
 * @param maxLength the most tokens per text during training
 * @param learningRate AdamW's peak learning rate
 * @param warmupRatio the share of steps with a linear warm-up (then linear decay to 0)
 * @param weightDecay AdamW's decoupled weight decay (not on biases and layer norms)
 * @param maxGradNorm the global gradient norm clipping threshold (0: none)
 * @param temperature tau of the contrastive and distillation softmaxes
 * @param cosentScale the CoSENT scale (20)
 * @param positiveThreshold scored pairs at or above it are positives for {@link FineTuneObjective#GECKO}
 * @param allHardNegatives every row's hard negative in each row's softmax, not only its own
 * @param promptStyle how texts are rendered
 * @param freezeEmbeddings leave the embedding tables and their layer norm untouched
 * @param baseAverage after training, mix this share of the base weights back in (0: none)
 * @param seed data order, split and initialisation
 * @param validateEvery validate every this many steps (and after the last)
 * @param keepBest write the weights of the best validation (else the last ones)
 * @param patience stop after this many validations without improvement (0: never)
 * @param checkpointEvery write a resumable checkpoint every this many steps (0: never)
 * @param resume continue from the output folder's checkpoint
 * @param output the model folder to write
 * @param quantizeInt8 also write an int8 twin in {@code output/int8}
 * @param teacherCache the folder of the teacher-vector cache, or null for memory only
 * @param neighbourGroup for {@link FineTuneObjective#MRL_DISTILL}: batches made of groups of this
 *     many teacher neighbours (0: random batches)
 * @param reorderDims before training, order the encoder's hidden coordinates by their variance over
 *     the base model's vectors of the training texts (an exact reparametrisation)
 * @param basis the fixed orthonormal output basis the model is trained through and written with
 *     (as the package's adapter); {@link Basis#IDENTITY}: none
 * @param basisTask the task the training texts are rendered for when the basis is fit, or null
 *     for the objective's own rendering (documents for {@link FineTuneObjective#MRL_DISTILL}, and
 *     queries too with {@code distillQueries})
 * @param distillQueries for {@link FineTuneObjective#MRL_DISTILL}: each text rendered as a query is
 *     distilled against the batch's texts rendered as documents (else documents against documents)
 */
public record FineTuneConfig(FineTuneObjective objective, List<Integer> dims, List<Double> dimWeights, int epochs,
    int batchSize, int miniBatchSize, int maxLength, double learningRate, double warmupRatio, double weightDecay,
    double maxGradNorm, double temperature, double cosentScale, double positiveThreshold, boolean allHardNegatives,
    PromptStyle promptStyle, boolean freezeEmbeddings, double baseAverage, long seed, int validateEvery,
    boolean keepBest, int patience, int checkpointEvery, boolean resume, Path output, boolean quantizeInt8, Path teacherCache,
    int neighbourGroup, boolean reorderDims, Basis basis, TaskType basisTask,
    boolean distillQueries) {
  /** Copies the lists. */
  public FineTuneConfig {
    dims = List.copyOf(dims);
    dimWeights = List.copyOf(dimWeights);
  }
}
