/**
 * captcha-lab's public surface, one namespace per concern. Scripts usually import the folder
 * they need (`./src/train`); this entry point is `main` of the package.
 */
export * as backend from './backend';
export * as captcha from './captcha';
export * as data from './data';
export * as files from './files';
export * as models from './models';
export * as train from './train';
export * as evaluation from './eval';
export * as viz from './viz';
