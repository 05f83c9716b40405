package dev.gecko.springai.autoconfigure;

import dev.gecko.core.GeckoException;
import dev.gecko.springai.GeckoEmbeddingModel;
import java.io.UncheckedIOException;
import org.springframework.ai.embedding.EmbeddingModel;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.context.annotation.Bean;

/**
 * Spring Boot auto-configuration of Gecko's Spring AI {@link EmbeddingModel}: a {@link
 * GeckoEmbeddingModel} bean built from {@link GeckoEmbeddingProperties} ({@code gecko.embedding.*}),
 * unless the application defines an {@code EmbeddingModel} of its own, or selects another provider
 * with Spring AI's {@code spring.ai.model.embedding} property (any value but {@code gecko}).
 *
 * <p>The conditions are on the class, so that where it backs off nothing of it is registered: the
 * {@code gecko.embedding.*} properties are bound and validated only when Gecko's model is created,
 * and a bad value among them cannot stop an application that embeds with a model of its own. The
 * missing-bean condition sees the beans registered before this class is evaluated: the
 * application's own (user configuration comes before auto-configuration) and those of
 * auto-configurations ordered before it. It declares no order against other providers' embedding
 * auto-configurations (see docs/integrations.md, "Beside another Spring AI provider").
 *
 * <p>The bean owns its embedder and closes it when the application context closes. A property
 * value the model refuses (an unknown model, a width above the model's) stops the context with an
 * {@link InvalidConfigurationPropertyValueException} that names the property. Stateless and
 * thread-safe; Spring creates and owns the instance.
 */
@AutoConfiguration
@ConditionalOnClass({GeckoEmbeddingModel.class, EmbeddingModel.class})
@ConditionalOnProperty(name = GeckoEmbeddingAutoConfiguration.SPRING_AI_EMBEDDING_MODEL, havingValue = "gecko",
    matchIfMissing = true)
@ConditionalOnMissingBean(EmbeddingModel.class)
@EnableConfigurationProperties(GeckoEmbeddingProperties.class)
public class GeckoEmbeddingAutoConfiguration {
  /** Spring AI's property that selects the embedding model's provider. */
  public static final String SPRING_AI_EMBEDDING_MODEL = "spring.ai.model.embedding";

  /** Created by Spring. */
  public GeckoEmbeddingAutoConfiguration() {}

  /**
   * The embedding model, opened from the properties; closed with the context.
   *
   * @throws InvalidConfigurationPropertyValueException if a value breaks its rule ({@link
   *     GeckoEmbeddingProperties#check}), the model cannot be opened or the width exceeds the
   *     model's (naming the property, the library's failure attached as a suppressed exception);
   *     a failure caused by an {@link Error} (a native library that does not load) is thrown as
   *     the library's own {@code GeckoException} instead, as it is no fault of the value
   */
  @Bean(destroyMethod = "close")
  public GeckoEmbeddingModel geckoEmbeddingModel(GeckoEmbeddingProperties properties) {
    properties.check();
    GeckoEmbeddingModel.Builder b = GeckoEmbeddingModel.builder()
        .model(properties.getModel())
        .documentTaskType(properties.getDocumentTaskType())
        .queryTaskType(properties.getQueryTaskType())
        .titleMetadataKey(properties.getTitleMetadataKey());
    if (properties.getThreads() != null) {
      b.threads(properties.getThreads());
    }
    if (properties.getMaxBatchTokens() != null) {
      b.maxBatchTokens(properties.getMaxBatchTokens());
    }
    if (properties.getDims() != null) {
      b.dims(properties.getDims());
    }
    try {
      return b.build();
    } catch (IllegalArgumentException e) {
      String message = e.getMessage() == null ? "" : e.getMessage();
      if (message.startsWith("dims ")) {
        throw invalid("dims", properties.getDims(), e);
      }
      if (message.startsWith("maxBatchTokens ")) { // a batch of that budget would not fit the model's buffers
        throw invalid("max-batch-tokens", properties.getMaxBatchTokens(), e);
      }
      throw invalid("model", properties.getModel(), e);
    } catch (GeckoException | UncheckedIOException e) {
      if (causedByError(e)) { // a native library that does not load, memory: not the property's value
        throw e;
      }
      throw invalid("model", properties.getModel(), e);
    }
  }

  /**
   * The property's value at fault, with the failure that says why attached (its stack trace and
   * its own causes are printed with it; the exception's cause is fixed at null by Spring Boot).
   */
  private static InvalidConfigurationPropertyValueException invalid(String property, Object value, Exception e) {
    InvalidConfigurationPropertyValueException x = new InvalidConfigurationPropertyValueException(
        GeckoEmbeddingProperties.PREFIX + "." + property, value, e.getMessage());
    x.addSuppressed(e);
    return x;
  }

  private static boolean causedByError(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof Error) {
        return true;
      }
    }
    return false;
  }
}
