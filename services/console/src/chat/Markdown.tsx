import "highlight.js/styles/github-dark.css";

import DOMPurify from "dompurify";
import { useMemo } from "react";

import { markdownToHtml } from "./markdown";

/** A model's Markdown as sanitized HTML (DOMPurify): an answer can never inject a script. */
export function Markdown({ text }: { text: string }) {
  const html = useMemo(() => DOMPurify.sanitize(markdownToHtml(text)), [text]);
  return <div className="markdown" dangerouslySetInnerHTML={{ __html: html }} />;
}
