package dev.gecko.core.internal.model;

import dev.gecko.core.EmbedRequest;

/**
 * Applies a prompt template to a request's text and title, in one pass over the template: a
 * {@code {title}} or {@code {text}} inside the substituted values is left as it is (a title
 * containing {@code {text}} does not get the body spliced into it). A missing title renders as
 * {@code none} in a {@code {title}} slot; where the template has no title slot and a title is
 * given, the text becomes {@code (title + " " + text).strip()} first, stripped as Python strips
 * ({@link PythonStrings}; the BEIR/MTEB convention); without a
 * template the text (so titled) is used as it is. Internal: {@code ModelPackage.render} is the API.
 *
 * <p>Stateless and thread-safe.
 */
public final class PromptRenderer {
  private static final String TEXT = "{text}";
  private static final String TITLE = "{title}";

  private PromptRenderer() {}

  /** Renders {@code request} with {@code template} (null: no template). */
  public static String render(String template, EmbedRequest request) {
    String title = request.title();
    boolean hasTitle = hasTitle(title);
    String titled = titled(title, request.text());
    if (template == null) {
      return titled;
    }
    boolean titleSlot = template.contains(TITLE);
    String text = titleSlot ? request.text() : titled;
    String titleValue = hasTitle ? title : "none";
    StringBuilder out = new StringBuilder(template.length() + text.length() + (hasTitle ? title.length() : 4));
    int i = 0;
    while (i < template.length()) {
      if (template.startsWith(TEXT, i)) {
        out.append(text);
        i += TEXT.length();
      } else if (titleSlot && template.startsWith(TITLE, i)) {
        out.append(titleValue);
        i += TITLE.length();
      } else {
        out.append(template.charAt(i++));
      }
    }
    return out.toString();
  }

  /**
   * The text with its title joined in front, as where a template has no title slot: {@code
   * (title + " " + text).strip()} with Python's whitespace, or {@code text} as it is where the title
   * is null or blank (the BEIR/MTEB convention).
   */
  public static String titled(String title, String text) {
    return hasTitle(title) ? PythonStrings.strip(title + " " + text) : text;
  }

  private static boolean hasTitle(String title) {
    return title != null && !PythonStrings.isBlank(title);
  }
}
