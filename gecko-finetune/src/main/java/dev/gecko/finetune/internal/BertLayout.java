package dev.gecko.finetune.internal;

import dev.gecko.core.internal.onnx.OnnxModel;
import dev.gecko.finetune.UnsupportedModelException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a BERT-family ONNX export (transformers' {@code BertModel} as exported by optimum /
 * torch.onnx: bge-small-en-v1.5, all-MiniLM-L6-v2, e5-small-v2, sentence-transformers ONNX
 * folders) into a {@link BertConfig} and a map from each trainable parameter's canonical name to
 * the graph initializer holding it.
 *
 * <p>Every initializer is mapped exactly once, by the names of the nodes that consume it ({@code
 * /encoder/layer.3/attention/self/query/MatMul} reads the query weight of layer 3, {@code
 * /embeddings/LayerNorm/Mul} the embedding layer norm's scale...); an initializer that no rule
 * claims, a parameter that no initializer provides, or one claimed twice fails with a message
 * naming it. The graph's own constants (layer norm epsilon, attention scale, mask value, head
 * count, activation) are read and checked, so a graph that computes something else is refused
 * rather than trained wrongly.
 *
 * <p>Stateless; {@link #read} is thread-safe.
 */
public final class BertLayout {
  private static final Pattern LAYER = Pattern.compile("^encoder\\.layer\\.(\\d+)\\.(.+)$");
  private static final List<String> LINEARS = List.of("attention.self.query", "attention.self.key",
      "attention.self.value", "attention.output.dense", "intermediate.dense", "output.dense");
  private static final List<String> NORMS = List.of("attention.output.LayerNorm", "output.LayerNorm");

  private BertLayout() {}

  /** The result: the architecture, and parameter name -> initializer name, in canonical order. */
  public record Mapping(BertConfig config, Map<String, String> parameters, List<String> buffers) {}

  /**
   * Maps {@code model}'s initializers.
   *
   * @param what names the graph in messages (a file or a built-in model)
   * @throws UnsupportedModelException naming what was not recognised
   */
  public static Mapping read(OnnxModel model, String what) {
    for (OnnxModel.Initializer init : model.initializers().values()) {
      String other = init.dataType() == 10 ? "float16" : init.dataType() == 16 ? "bfloat16"
          : init.dataType() == 11 ? "float64" : null;
      if (other != null) { // the trainer reads and writes float32 weights only
        throw new UnsupportedModelException(what + ": initializer '" + init.name() + "' is " + other
            + ", not float32: give the fp32 model");
      }
    }
    Map<String, String> found = new LinkedHashMap<>();
    List<String> buffers = new ArrayList<>();
    List<String> unknown = new ArrayList<>();
    for (OnnxModel.Initializer init : model.initializers().values()) {
      List<OnnxModel.Node> users = model.consumers(init.name());
      if (users.isEmpty()) {
        unknown.add(init.name() + " (no node reads it)");
        continue;
      }
      String role = null;
      for (OnnxModel.Node n : users) {
        String r = role(model, n, init.name());
        if (r == null) {
          role = null;
          break;
        }
        if (role != null && !role.equals(r)) {
          throw new UnsupportedModelException(what + ": initializer '" + init.name() + "' is read as both " + role
              + " and " + r);
        }
        role = r;
      }
      if (role == null) {
        unknown.add(init.name() + " (read by " + users.get(0) + ")");
      } else if (role.equals("buffer.position_ids")) {
        long[] ids = init.longs();
        for (int i = 0; i < ids.length; i++) {
          if (ids[i] != i) {
            throw new UnsupportedModelException(what + ": position ids '" + init.name() + "' are not 0, 1, 2...");
          }
        }
        buffers.add(init.name());
      } else if (found.put(role, init.name()) != null) {
        throw new UnsupportedModelException(what + ": two initializers hold " + role + ": '" + found.get(role)
            + "' and '" + init.name() + "'");
      }
    }
    if (!unknown.isEmpty()) {
      throw new UnsupportedModelException(what + ": not a BERT-like graph this trainer recognises; unrecognised "
          + "initializers: " + String.join(", ", unknown.subList(0, Math.min(5, unknown.size())))
          + (unknown.size() > 5 ? " and " + (unknown.size() - 5) + " more" : ""));
    }
    BertConfig config = config(model, found, what);
    Map<String, String> ordered = new LinkedHashMap<>();
    for (String name : BertConfig.parameterNames(config.layers())) {
      String init = found.remove(name);
      if (init == null) {
        throw new UnsupportedModelException(what + ": no initializer holds " + name);
      }
      ordered.put(name, init);
    }
    if (!found.isEmpty()) {
      throw new UnsupportedModelException(what + ": initializers for parameters outside the layout: " + found);
    }
    return new Mapping(config, ordered, buffers);
  }

  /** The module path of a node: its name (or first output) without the leading '/' and the op's own step. */
  static String modulePath(OnnxModel.Node n) {
    String name = n.name();
    if (name == null || name.isEmpty()) {
      name = n.outputs().isEmpty() ? "" : n.outputs().get(0);
    }
    if (name.startsWith("/")) {
      name = name.substring(1);
    }
    int slash = name.lastIndexOf('/');
    return slash < 0 ? "" : name.substring(0, slash).replace('/', '.');
  }

  /** The canonical parameter that {@code init} is as input of {@code n}, or null. */
  private static String role(OnnxModel model, OnnxModel.Node n, String init) {
    String path = modulePath(n);
    int input = n.inputs().indexOf(init);
    switch (n.opType()) {
      case "Gather":
        if (input != 0) {
          return null;
        }
        if (path.equals("embeddings.word_embeddings")) {
          return "embeddings.word_embeddings.weight";
        }
        if (path.equals("embeddings.position_embeddings")) {
          return "embeddings.position_embeddings.weight";
        }
        if (path.equals("embeddings.token_type_embeddings")) {
          return "embeddings.token_type_embeddings.weight";
        }
        return null;
      case "Slice":
        return path.equals("embeddings") && input == 0 ? "buffer.position_ids" : null;
      case "MatMul":
      case "Add": {
        if (path.endsWith(".LayerNorm") && n.is("Add")) {
          return isNormPath(path) ? path + ".bias" : null;
        }
        Matcher m = LAYER.matcher(path);
        if (!m.matches() || !LINEARS.contains(m.group(2))) {
          return null;
        }
        if (n.is("MatMul")) {
          return input == 1 ? path + ".weight" : null;
        }
        return path + ".bias";
      }
      case "Mul":
        return path.endsWith(".LayerNorm") && isNormPath(path) ? path + ".weight" : null;
      case "LayerNormalization":
        if (!isNormPath(path)) {
          return null;
        }
        return input == 1 ? path + ".weight" : input == 2 ? path + ".bias" : null;
      default:
        return null;
    }
  }

  private static boolean isNormPath(String path) {
    if (path.equals("embeddings.LayerNorm")) {
      return true;
    }
    Matcher m = LAYER.matcher(path);
    return m.matches() && NORMS.contains(m.group(2));
  }

  private static BertConfig config(OnnxModel model, Map<String, String> found, String what) {
    OnnxModel.Initializer words = init(model, found, "embeddings.word_embeddings.weight", what);
    OnnxModel.Initializer positions = init(model, found, "embeddings.position_embeddings.weight", what);
    OnnxModel.Initializer types = init(model, found, "embeddings.token_type_embeddings.weight", what);
    int hidden = (int) words.dims()[1];
    TreeMap<Integer, Boolean> layers = new TreeMap<>();
    for (String p : found.keySet()) {
      Matcher m = LAYER.matcher(p.substring(0, p.lastIndexOf('.')));
      if (m.matches()) {
        layers.put(Integer.parseInt(m.group(1)), true);
      }
    }
    if (layers.isEmpty() || layers.firstKey() != 0 || layers.lastKey() != layers.size() - 1) {
      throw new UnsupportedModelException(what + ": encoder layers are not numbered 0..n-1: " + layers.keySet());
    }
    OnnxModel.Initializer inter = init(model, found, "encoder.layer.0.intermediate.dense.weight", what);
    int intermediate = (int) inter.dims()[1];
    // Constants the graph computes with.
    Float eps = null;
    Integer heads = null;
    Float scale = null;
    Float maskValue = null;
    boolean erf = false;
    for (OnnxModel.Node n : model.nodes()) {
      String path = modulePath(n);
      if (n.is("LayerNormalization")) {
        eps = same(eps, n.floatAttribute("epsilon", 1e-5f), "layer norm epsilon", what);
      } else if (n.is("Add") && path.endsWith(".LayerNorm") && n.inputs().size() == 2) {
        OnnxModel.Node p = model.producer(n.inputs().get(0));
        OnnxModel.Initializer c = model.constant(n.inputs().get(1));
        if (p != null && p.is("ReduceMean") && c != null && c.size() == 1) {
          eps = same(eps, c.floats()[0], "layer norm epsilon", what);
        }
      } else if (n.is("Reshape") && path.endsWith("attention.self") && n.inputs().size() == 2) {
        OnnxModel.Node concat = model.producer(n.inputs().get(1));
        if (concat != null && concat.is("Concat") && concat.inputs().size() == 4) {
          OnnxModel.Initializer h = model.constant(concat.inputs().get(2));
          OnnxModel.Initializer d = model.constant(concat.inputs().get(3));
          if (h != null && d != null && h.size() == 1 && d.size() == 1) {
            int nh = (int) h.longs()[0];
            if (nh * d.longs()[0] != hidden) {
              throw new UnsupportedModelException(what + ": attention heads " + nh + " x " + d.longs()[0]
                  + " != hidden width " + hidden);
            }
            heads = same(heads, nh, "attention heads", what);
          }
        }
      } else if (n.is("Div") && path.endsWith("attention.self")) {
        OnnxModel.Initializer c = model.constant(n.inputs().get(1));
        OnnxModel.Node p = model.producer(n.inputs().get(0));
        if (c != null && c.size() == 1 && p != null && p.is("MatMul")) {
          scale = same(scale, c.floats()[0], "attention scale", what);
        }
      } else if (n.is("Erf") && path.endsWith("intermediate.intermediate_act_fn")) {
        erf = true;
      } else if (n.is("Mul") && path.isEmpty() && n.inputs().size() == 2) {
        OnnxModel.Initializer c = model.constant(n.inputs().get(1));
        OnnxModel.Node p = model.producer(n.inputs().get(0));
        if (c != null && c.size() == 1 && p != null && p.is("Sub")) {
          maskValue = c.floats()[0];
        }
      } else if (n.opType().toLowerCase(Locale.ROOT).contains("gelu") || n.is("Tanh")) {
        throw new UnsupportedModelException(what + ": activation " + n.opType() + " is not the exact erf GELU");
      } else if (!n.domain().isEmpty()) {
        throw new UnsupportedModelException(what + ": operator " + n.domain() + "." + n.opType()
            + " is not recognised (an optimised or quantised graph? give the plain fp32 export)");
      } else if (n.is("MatMulInteger") || n.is("DynamicQuantizeLinear")) {
        throw new UnsupportedModelException(what + ": a quantised graph (" + n.opType() + "): give the fp32 model");
      }
    }
    if (eps == null) {
      throw new UnsupportedModelException(what + ": no layer norm epsilon found");
    }
    if (heads == null) {
      throw new UnsupportedModelException(what + ": the number of attention heads was not recognised");
    }
    if (!erf) {
      throw new UnsupportedModelException(what + ": no erf GELU in the intermediate layers");
    }
    double headDim = (double) hidden / heads;
    if (scale != null && Math.abs(scale - Math.sqrt(headDim)) > 1e-4) {
      throw new UnsupportedModelException(what + ": attention scale " + scale + " is not sqrt(" + headDim + ")");
    }
    return new BertConfig(hidden, layers.size(), heads, intermediate, (int) words.dims()[0],
        (int) positions.dims()[0], (int) types.dims()[0], eps,
        maskValue == null ? -Float.MAX_VALUE : maskValue);
  }

  private static <T> T same(T old, T v, String what, String model) {
    if (old != null && !old.equals(v)) {
      throw new UnsupportedModelException(model + ": " + what + " differs between layers (" + old + ", " + v + ")");
    }
    return v;
  }

  private static OnnxModel.Initializer init(OnnxModel model, Map<String, String> found, String param, String what) {
    String name = found.get(param);
    if (name == null) {
      throw new UnsupportedModelException(what + ": no initializer holds " + param);
    }
    return model.initializers().get(name);
  }
}
