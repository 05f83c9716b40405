package dev.gecko.train.llm;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Set;

/**
 * The base of the HTTP clients: holds the base URL (without a trailing slash), the model, the
 * declared capabilities and the {@link HttpTransport}; refuses a generation that asks for top
 * log-probabilities the client does not declare before anything is sent; reports its {@link
 * #endpoint()} as its provider kind and its base URL shorn of secrets ({@link
 * LlmClients#endpointUrl}); and names itself {@code Name[url, model, capabilities]} with that same
 * URL (never with the API key, nor user info or a query). A subclass holds only its protocol's
 * mapping of requests and responses.
 *
 * <p>Immutable and thread-safe. It owns its transport, which holds nothing that needs closing.
 */
abstract class HttpLlmClient implements LlmClient {
  private final String baseUrl;
  /** The base URL's query with its {@code ?}, or empty: sent with every request. */
  private final String query;
  private final String shownUrl;
  private final String endpoint;
  private final String model;
  private final Set<Capability> capabilities;
  private final HttpTransport transport;

  /**
   * Creates a client of {@code provider} (the kind of server, such as {@code openai-compatible}:
   * the first word of {@link #endpoint()}) at {@code baseUrl}.
   */
  HttpLlmClient(String provider, String baseUrl, String model, Set<Capability> capabilities, HttpTransport transport) {
    String url = LlmClients.checkBaseUrl(baseUrl); // white space around it stripped, as endpointUrl reads it
    // a query (Azure's api-version, a gateway's key) stays the request's query: the path goes before
    // it, never into it; a fragment is never sent
    int hash = url.indexOf('#');
    String noFragment = hash < 0 ? url : url.substring(0, hash);
    int question = noFragment.indexOf('?');
    String base = question < 0 ? noFragment : noFragment.substring(0, question);
    this.query = question < 0 || question == noFragment.length() - 1 ? "" : noFragment.substring(question);
    this.baseUrl = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    this.shownUrl = LlmClients.endpointUrl(url);
    this.endpoint = provider + " " + shownUrl;
    this.model = model;
    this.capabilities = Set.copyOf(capabilities);
    this.transport = transport;
  }

  @Override
  public final String model() {
    return model;
  }

  @Override
  public final Set<Capability> capabilities() {
    return capabilities;
  }

  /** Returns the provider kind and the base URL without secrets, as {@code openai-compatible http://localhost:8000/v1}. */
  @Override
  public final String endpoint() {
    return endpoint;
  }

  @Override
  public final LlmResponse generate(LlmRequest request) {
    if (request.options().topLogprobs() > 0) {
      require(Capability.TOP_LOGPROBS);
    }
    return send(request);
  }

  /**
   * Sends a generation request that the capability check let through, and maps the answer.
   *
   * @throws LlmException on any failure
   */
  abstract LlmResponse send(LlmRequest request);

  /** Returns whether this client declares {@code capability}. */
  final boolean supports(Capability capability) {
    return capabilities.contains(capability);
  }

  /**
   * Returns normally if this client declares {@code capability}.
   *
   * @throws UnsupportedCapabilityException if it does not
   */
  final void require(Capability capability) {
    if (!supports(capability)) {
      throw new UnsupportedCapabilityException(capability, model);
    }
  }

  /**
   * POSTs {@code body} to {@code path} under the base URL ({@code path} starts with {@code /}).
   *
   * @throws LlmException on any failure, one to make the request URL too (its message shows the
   *     URL as {@link LlmClients#shownUrl} does, never the parser's, which quotes the whole URL)
   */
  final HttpTransport.Reply post(String path, JsonNode body) {
    URI uri;
    try {
      uri = new URI(baseUrl + path + query);
    } catch (URISyntaxException | RuntimeException e) {
      throw new LlmException("cannot make a request URL from " + shownUrl + " and " + path, null);
    }
    return transport.post(uri, body);
  }

  /**
   * Returns {@code json} as text for an exception's body, the transport's secrets replaced: a
   * tree parsed from a body holds its strings decoded, so a key the server echoed with JSON
   * escapes (a character written as a Unicode escape, say) is whole again here.
   */
  final String shownBody(JsonNode json) {
    return transport.scrub(json.toString());
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "[" + shownUrl + ", " + model + ", " + capabilities + "]";
  }
}
