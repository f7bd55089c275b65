import {
  createTheme,
  defaultVariantColorsResolver,
  Modal,
  parseThemeColor,
  type VariantColorsResolver,
  type CSSVariablesResolver,
  type MantineColorsTuple,
} from '@mantine/core';

// The shared look of every Gatehouse page (see docs/console.md): indigo #4f46e5 (hover #4338ca),
// text #0f172a, muted #475569, background #f8fafc, white surfaces with #e2e8f0 borders, radius 8px.
const indigo: MantineColorsTuple = [
  '#eef2ff',
  '#e0e7ff',
  '#c7d2fe',
  '#a5b4fc',
  '#818cf8',
  '#6366f1',
  '#4f46e5',
  '#4338ca',
  '#3730a3',
  '#312e81',
];

/** Light and outline variants (badges) get the dark shade of their colour for text: AA contrast. */
const variantColorResolver: VariantColorsResolver = (input) => {
  const colors = defaultVariantColorsResolver(input);
  if (input.variant !== 'light' && input.variant !== 'outline') return colors;
  const parsed = parseThemeColor({
    color: input.color ?? input.theme.primaryColor,
    theme: input.theme,
  });
  if (!parsed.isThemeColor) return colors;
  if (input.variant === 'outline')
    return { ...colors, color: `var(--mantine-color-${parsed.color}-8)` };
  return {
    ...colors,
    color: `var(--mantine-color-${parsed.color}-9)`,
    background: `var(--mantine-color-${parsed.color}-0)`,
  };
};

export const theme = createTheme({
  // People who ask their system for less motion get no modal and menu transitions.
  respectReducedMotion: true,
  variantColorResolver,
  primaryColor: 'indigo',
  primaryShade: 6,
  colors: { indigo },
  black: '#0f172a',
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  headings: { fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif' },
  defaultRadius: 'md',
  radius: { md: '8px' },
  focusRing: 'auto',
  components: {
    Modal: Modal.extend({
      defaultProps: { closeButtonProps: { 'aria-label': 'Close' }, centered: true },
    }),
  },
});

/** Error text #b91c1c and muted text #475569: both readable on white (WCAG AA contrast). */
export const cssVariablesResolver: CSSVariablesResolver = () => ({
  variables: {},
  light: {
    '--mantine-color-error': '#b91c1c',
    '--mantine-color-dimmed': '#475569',
    '--mantine-color-placeholder': '#64748b',
    '--mantine-color-body': '#f8fafc',
    '--mantine-color-text': '#0f172a',
  },
  dark: {},
});
