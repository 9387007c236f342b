// esbuild's css loader turns `import './x.css'` into dist/webview.css; the import itself has no value.
declare module '*.css';
