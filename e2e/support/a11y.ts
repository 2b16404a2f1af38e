// Every interactive element must have an accessible name: read Chromium's own accessibility tree (what a screen
// reader gets) and list the controls whose computed name is empty.
import type { Page } from '@playwright/test';

const CONTROLS = new Set([
  'button',
  'link',
  'textbox',
  'searchbox',
  'combobox',
  'listbox',
  'slider',
  'spinbutton',
  'checkbox',
  'radio',
  'switch',
  'tab',
  'menuitem',
]);

interface AXNode {
  ignored?: boolean;
  role?: { value?: string };
  name?: { value?: string };
  backendDOMNodeId?: number;
}

export async function unnamedControls(page: Page): Promise<string[]> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as { nodes: AXNode[] };
    const bad: string[] = [];
    for (const n of nodes) {
      const role = n.role?.value ?? '';
      if (n.ignored || !CONTROLS.has(role)) continue;
      if ((n.name?.value ?? '').trim() !== '') continue;
      let html = '';
      if (n.backendDOMNodeId !== undefined) {
        const { outerHTML } = (await cdp.send('DOM.getOuterHTML', { backendNodeId: n.backendDOMNodeId })) as {
          outerHTML: string;
        };
        html = outerHTML.slice(0, 160);
      }
      bad.push(`${role}: ${html}`);
    }
    return bad;
  } finally {
    await cdp.detach();
  }
}
