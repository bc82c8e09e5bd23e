/** A model's Markdown as HTML, with code blocks highlighted (highlight.js, its common
 * languages); still to be sanitized before it reaches the page (Markdown.tsx does). */

import hljs from "highlight.js/lib/common";
import { Marked } from "marked";
import { markedHighlight } from "marked-highlight";

const marked = new Marked(
  markedHighlight({
    emptyLangClass: "hljs",
    langPrefix: "hljs language-",
    highlight(code, lang) {
      const language = hljs.getLanguage(lang) ? lang : "plaintext";
      return hljs.highlight(code, { language }).value;
    },
  }),
  { gfm: true, breaks: true },
);

export function markdownToHtml(text: string): string {
  return marked.parse(text, { async: false });
}
