package dev.gecko.langchain4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.gecko.core.GeckoEmbedder;
import dev.gecko.core.io.Passage;
import dev.gecko.eval.BeirDataset;
import dev.gecko.eval.EvalReport;
import dev.gecko.eval.RetrievalEvaluator;
import dev.langchain4j.data.document.Document;
import dev.langchain4j.data.document.Metadata;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.rag.content.Content;
import dev.langchain4j.rag.content.retriever.EmbeddingStoreContentRetriever;
import dev.langchain4j.rag.query.Query;
import dev.langchain4j.store.embedding.EmbeddingStoreIngestor;
import dev.langchain4j.store.embedding.inmemory.InMemoryEmbeddingStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * LangChain4j's own RAG pieces ({@code EmbeddingStoreIngestor}, {@code InMemoryEmbeddingStore},
 * {@code EmbeddingStoreContentRetriever}) over ArguAna with {@link GeckoEmbeddingModel} return the
 * gold passage for exactly as many queries, at each cutoff, as {@code gecko eval retrieval}
 * ({@link RetrievalEvaluator}) says they should.
 *
 * <p>CI runs a slice (the first 50 queries; the first 300 passages plus their gold passages)
 * with all-MiniLM-L6-v2 (fp32: its vectors do not depend on the batch, so a query embedded alone
 * equals the evaluator's). {@code -Dgecko.arguana.full=true} runs all 1,406 queries over all
 * 8,674 passages (docs/integrations.md).
 */
class ArguAnaRagTest {
  private static final List<Integer> KS = List.of(1, 5, 10);

  static Path shared() {
    return Path.of(System.getProperty("gecko.shared.dir", "../../shared"));
  }

  static BeirDataset slice(BeirDataset full, int queries, int passages) {
    List<BeirDataset.Query> qs = full.queries().subList(0, Math.min(queries, full.queries().size()));
    Map<String, Map<String, Integer>> qrels = new LinkedHashMap<>();
    Set<String> gold = new HashSet<>();
    for (BeirDataset.Query q : qs) {
      qrels.put(q.id(), full.qrels().get(q.id()));
      gold.addAll(full.qrels().get(q.id()).keySet());
    }
    List<Passage> corpus = new ArrayList<>();
    for (int i = 0; i < full.corpus().size(); i++) {
      Passage p = full.corpus().get(i);
      if (i < passages || gold.contains(p.id())) {
        corpus.add(p);
      }
    }
    return new BeirDataset(full.name() + "-slice", corpus, qs, qrels);
  }

  @Test
  void langChain4jRetrievalFindsTheGoldPassageAsOftenAsTheEvaluator() throws IOException {
    BeirDataset full = BeirDataset.read(shared().resolve("data/beir/arguana"));
    boolean all = Boolean.getBoolean("gecko.arguana.full");
    BeirDataset data = all ? full : slice(full, 50, 300);
    try (GeckoEmbedder embedder = GeckoEmbedder.builder().model("all-MiniLM-L6-v2").build()) {
      EvalReport report = RetrievalEvaluator.builder(embedder).dims(List.of(384)).ks(KS).ignoreIdenticalIds(true)
          .build().evaluate(data);
      Map<String, Double> expected = report.metrics().get(384);

      CountingEmbedder counting = new CountingEmbedder(embedder);
      GeckoEmbeddingModel model = GeckoEmbeddingModel.of(counting);
      InMemoryEmbeddingStore<TextSegment> store = new InMemoryEmbeddingStore<>();
      List<Document> documents = new ArrayList<>();
      for (Passage p : data.corpus()) {
        Metadata m = Metadata.from("id", p.id());
        if (p.title() != null && !p.title().isBlank()) {
          m.put(GeckoEmbeddingModel.DEFAULT_TITLE_KEY, p.title());
        }
        documents.add(Document.from(p.text().strip(), m));
      }
      EmbeddingStoreIngestor.builder().embeddingModel(model).embeddingStore(store).build().ingest(documents);
      assertThat(counting.embedCalls).as("the ingestor's one embedAll: one embedder call").hasValue(1);
      assertThat(counting.texts).hasValue(data.corpus().size());

      EmbeddingStoreContentRetriever retriever = EmbeddingStoreContentRetriever.builder()
          .embeddingModel(model.forQueries()).embeddingStore(store).maxResults(KS.get(KS.size() - 1)).build();
      int[] found = new int[KS.size()];
      for (BeirDataset.Query q : data.queries()) {
        List<String> ids = new ArrayList<>();
        for (Content c : retriever.retrieve(Query.from(q.text()))) {
          String id = c.textSegment().metadata().getString("id");
          if (!id.equals(q.id())) { // MTEB's rule for ArguAna: the query's own argument does not count
            ids.add(id);
          }
        }
        Set<String> relevant = data.qrels().get(q.id()).keySet();
        for (int k = 0; k < KS.size(); k++) {
          List<String> top = ids.subList(0, Math.min(KS.get(k), ids.size()));
          if (top.stream().anyMatch(relevant::contains)) {
            found[k]++;
          }
        }
      }
      for (int k = 0; k < KS.size(); k++) {
        // one relevant passage per ArguAna query: recall@k is the share of queries whose gold passage is in the top k
        double recall = 100.0 * found[k] / data.queries().size();
        System.out.printf("ArguAna %s (%d queries, %d passages): gold passage in the top %d for %d queries: "
            + "LangChain4j recall %.2f, gecko eval %.2f%n", all ? "full" : "slice", data.queries().size(),
            data.corpus().size(), KS.get(k), found[k], recall, expected.get("recall_at_" + KS.get(k)));
        assertThat(recall).as("recall@" + KS.get(k)).isCloseTo(expected.get("recall_at_" + KS.get(k)), within(1e-9));
      }
      assertThat(found[0]).as("a real retrieval: the gold passage is often first").isGreaterThan(data.queries().size() / 10);
    }
  }
}
