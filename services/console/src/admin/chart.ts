/** Bar geometry for the usage charts. Only the drawing uses floats: the figures shown beside
 * the bars are the API's own, formatted, never derived from these. */

export interface Bar {
  label: string;
  value: number;
  /** Bar length in the chart's units, 0..scale; a non-zero value is at least 1 unit, so it
   * stays visible. */
  length: number;
}

export function bars(items: { label: string; value: number }[], scale = 100): Bar[] {
  const max = Math.max(0, ...items.map((item) => item.value));
  return items.map(({ label, value }) => {
    if (max <= 0 || value <= 0) return { label, value, length: 0 };
    return { label, value, length: Math.max(1, Math.round((value / max) * scale)) };
  });
}
