package dev.gecko.train.fret;

import dev.gecko.core.io.Passage;
/**
 * One of the N retrieved passages after relabeling. Immutable and thread-safe.
 *
 * @param passage the passage
 * @param retrievalRank its rank from the retriever (1 = nearest)
 * @param retrievalScore the retriever's similarity
 * @param ql the query likelihood score (higher = better)
 * @param rc the relevance score (higher = better)
 * @param qlRank rank by {@code ql}, from 1; ties share the best rank ("1224" ranking)
 * @param rcRank rank by {@code rc}, likewise
 * @param rrf {@code 1/qlRank + 1/rcRank}
 * @param rank final rank by {@code rrf} descending, ties broken by retrieval rank; from 1
 */
public record ScoredCandidate(Passage passage, int retrievalRank, float retrievalScore, double ql, double rc,
    int qlRank, int rcRank, double rrf, int rank) {}
