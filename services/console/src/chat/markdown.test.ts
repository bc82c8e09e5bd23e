import { describe, expect, it } from "vitest";

import { markdownToHtml } from "./markdown";

describe("markdownToHtml", () => {
  it("highlights a fenced block in the language it names", () => {
    const html = markdownToHtml("```python\ndef answer():\n    return 42\n```");
    expect(html).toContain('<code class="hljs language-python">');
    expect(html).toContain('<span class="hljs-keyword">def</span>');
    expect(html).toContain('<span class="hljs-number">42</span>');
  });

  it("keeps an unknown language's code as escaped plain text", () => {
    const html = markdownToHtml("```nosuchlang\n<b>x</b> & y\n```");
    expect(html).toContain("&lt;b&gt;x&lt;/b&gt; &amp; y");
    expect(html).not.toContain("<b>");
  });

  it("renders the rest as Markdown, line breaks included", () => {
    expect(markdownToHtml("**bold**\nnext")).toBe("<p><strong>bold</strong><br>next</p>\n");
  });
});
